"""Overflow is detected, never invented: on every backend, a loss that overflows (at W, at a perturbed
W, along a line, at a step of a sweep) raises FloatingPointError naming what overflowed, where the
kernels alone would return made-up finite numbers or NaN; and huge weights whose loss is finite
(W near 1e200, X near 1e-200, reg = 0: sum(W*W) overflows but is multiplied by 0) raise nothing."""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import landscape, optimize
from steepest.cs231n import eval_numerical_gradient as cs231n_eval_numerical_gradient
from steepest.cs231n import loss_function
from steepest.cs231n.classifiers import softmax_loss_naive, svm_loss_naive

LOSSES = {"svm": steepest.SVMLoss, "softmax": steepest.SoftmaxLoss}
C, D, N = 3, 4, 12


@pytest.fixture(params=sorted(LOSSES))
def kind(request) -> str:
    return request.param


def problem(x_scale=1.0, w_scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((C, D)) * w_scale
    X = rng.standard_normal((D, N)) * x_scale
    return W, X, np.arange(N) % C


def make(kind, backend, x_scale=1.0, w_scale=1.0, reg=0.0, dtype=np.float64):
    W, X, y = problem(x_scale, w_scale)
    return LOSSES[kind](X.astype(dtype), y, reg=reg, backend=backend), W.astype(dtype)


# ------------------------------------------------------------------------ finite differences

# (x_scale, w_scale, h, what overflowed)
FD_CASES = {
    "loss at W": (1e307, 10.0, 1e-5, r"loss at W overflowed"),
    "loss at W + h*E": (1e300, 1.0, 1e8, r"loss at W [+-] h\*E\[\d, \d\] overflowed"),
    "scores at W, huge W": (1e3, 1e306, 1e293, r"loss at W overflowed"),
}


@pytest.mark.parametrize("case", sorted(FD_CASES))
@pytest.mark.parametrize(
    "entry",
    ["numerical_gradient", "eval_numerical_gradient", "grad_check", "h_sweep"],
)
def test_finite_differences_of_an_overflowing_loss_raise(backend, kind, case, entry):
    x_scale, w_scale, h, match = FD_CASES[case]
    loss, W = make(kind, backend, x_scale, w_scale)
    if entry == "h_sweep":  # evaluates the gradient at W first: the loss's own message
        match = "overflowed" if case != "loss at W + h*E" else match
    with pytest.raises(FloatingPointError, match=match + ".*scale (X or W|W or X) down"):
        if entry == "numerical_gradient":
            steepest.numerical_gradient(loss, W, h)
        elif entry == "eval_numerical_gradient":
            steepest.eval_numerical_gradient(loss, W, h, method="centered")
        elif entry == "grad_check":
            steepest.grad_check(loss, W, np.zeros_like(W), h)
        else:
            steepest.h_sweep(loss, W, [h], sample=2)


def test_the_sweep_arithmetic_overflowing_is_named_too(backend):
    """exp(h x) in the softmax sweep overflows for h |x| > 709 though the losses are finite."""
    loss, W = make("softmax", backend)
    with pytest.raises(FloatingPointError, match=r"overflowed in the finite-difference sweep.*smaller h"):
        steepest.numerical_gradient(loss, W, 1e3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_a_float32_loss_overflows_at_float32_s_limit(backend, dtype):
    """The finite differences of a float32 problem are computed in float64, but its loss is float32:
    a loss past float32's range is an overflow, as the loss itself says."""
    loss, W = make("svm", backend, 1e38, 10.0, dtype=dtype)
    if dtype == np.float32:
        with pytest.raises(FloatingPointError):
            loss(W)
        with pytest.raises(FloatingPointError, match="loss at W overflowed"):
            steepest.numerical_gradient(loss, W)
    else:
        assert np.all(np.isfinite(steepest.numerical_gradient(loss, W).centered))


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_huge_weights_with_finite_scores_are_no_overflow(backend, kind, reg):
    """W near 1e200 and X near 1e-200: the scores are O(1). Without a penalty nothing overflows (the
    kernels' reg * e * (2w + e) is 0 * inf there: no false positive); with reg > 0 sum(W*W) does."""
    loss, W = make(kind, backend, 1e-200, 1e200, reg=reg)
    h = 1e190  # h must move weights of 1e200
    if reg:
        with pytest.raises(FloatingPointError, match="loss at W overflowed"):
            steepest.numerical_gradient(loss, W, h)
        return
    fd = steepest.numerical_gradient(loss, W, h)
    assert np.all(np.isfinite(fd.forward)) and np.all(np.isfinite(fd.backward))
    reference = steepest.numerical_gradient(loss.with_backend("numpy"), W, h)
    np.testing.assert_allclose(fd.centered, reference.centered, rtol=1e-12, atol=0)
    assert steepest.grad_check(loss, W, h=h).ok
    assert np.all(np.isfinite(steepest.h_sweep(loss, W, [h, 2 * h], sample=2).exact_max_error))


def test_the_exact_path_of_the_assignment_s_check_raises_too(backend):
    W, X, y = problem(1e307, 10.0)
    for fn in (svm_loss_naive, softmax_loss_naive):
        f = loss_function(fn, X.T, y, 0.0)
        with steepest.use_backend(backend), pytest.raises(FloatingPointError, match="overflowed"):
            cs231n_eval_numerical_gradient(f, W.T.copy(), verbose=False)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("entry", ["forward", "centered", "grad_check", "grad_check_sparse"])
def test_the_loop_refuses_a_function_that_overflows(bad, entry):
    x = np.linspace(-1.0, 1.0, 5)
    original = x.copy()

    def f(v):  # finite at x, not at x + h e_2
        return float(v @ v) if v[2] == original[2] else bad

    with pytest.raises(FloatingPointError, match=r"f\(x [+-] h\*E\[2\]\) = .* is not finite"):
        if entry in ("forward", "centered"):
            steepest.eval_numerical_gradient(f, x, method=entry)
        elif entry == "grad_check":
            steepest.grad_check(f, x, 2 * x)
        else:
            steepest.grad_check_sparse(f, x, 2 * x, num_checks=5, seed=0, verbose=False)
    assert np.array_equal(x, original)
    with pytest.raises(FloatingPointError, match=r"f\(x\) = .* is not finite"):
        steepest.grad_check(lambda v: bad, x, 2 * x)


# ------------------------------------------------------------------------ lines and planes


@pytest.mark.parametrize("entry", ["exact_line_minimum", "exact_line_search", "svm_line_breakpoints"])
@pytest.mark.parametrize("scale", [1e308, 1e306])
def test_exact_lines_along_a_huge_direction_raise(backend, entry, scale):
    """1e308: the direction's scores overflow; 1e306: they do not, the slopes (sums of them) do."""
    loss, W = make("svm", backend, x_scale=10.0)
    d = problem(seed=1)[0] * scale
    with pytest.raises(FloatingPointError, match="overflowed.*scale the direction|dW|d.* down"):
        getattr(landscape, entry)(loss, W, d)


def test_exact_lines_along_a_long_finite_direction_are_exact(backend):
    loss, W = make("svm", backend, x_scale=10.0)
    d = problem(seed=1)[0]
    near = landscape.exact_line_minimum(loss, W, d)
    far = landscape.exact_line_minimum(loss, W, d * 1e300)
    assert np.isfinite(far.loss) and far.loss == pytest.approx(near.loss, rel=1e-9)
    assert far.alpha * 1e300 == pytest.approx(near.alpha, rel=1e-9)


@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_exact_lines_overflowing_in_the_regularizer_raise_only_when_it_counts(backend, reg):
    """||d||^2 overflows for d near 1e200: with reg > 0 the line's quadratic is not finite; with reg = 0
    it is not part of the loss and the minimum is finite."""
    loss, W = make("svm", backend, x_scale=1e-200, reg=reg)
    d = problem(seed=1)[0] * 1e200
    if reg:
        with pytest.raises(FloatingPointError, match="regularizer along the line overflowed"):
            landscape.exact_line_minimum(loss, W, d)
        return
    found = landscape.exact_line_minimum(loss, W, d)
    assert np.isfinite(found.loss) and np.isfinite(found.alpha) and np.isfinite(found.loss_at_zero)
    line = landscape.loss_along_line(loss, W, d, [-1e-200, 0.0, 1e-200])
    assert np.all(np.isfinite(line.losses)) and np.isfinite(line.minimum.loss)


@pytest.mark.parametrize(
    "entry",
    [
        lambda loss, W, d: landscape.loss_along_line(loss, W, d),
        lambda loss, W, d: landscape.loss_on_plane(loss, W, d, d[::-1].copy()),
        lambda loss, W, d: landscape.auto_span(loss, W, d),
        lambda loss, W, d: landscape.descent_path(loss, W * 1e307, 2),
    ],
    ids=["loss_along_line", "loss_on_plane", "auto_span", "descent_path"],
)
def test_landscapes_of_overflowing_losses_raise(backend, kind, entry):
    loss, W = make(kind, backend, x_scale=10.0)
    d = np.sign(problem(seed=1)[0]) * 1e308  # its scores overflow
    with pytest.raises(FloatingPointError):
        entry(loss, W, d)


# ------------------------------------------------------------------------ strategies


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("strategy", ["random_search", "random_local_search"])
def test_strategies_never_return_a_non_finite_loss(strategy, value):
    def f(W):
        return value

    with pytest.raises(FloatingPointError, match=r"no (candidate|try) had a finite loss"):
        if strategy == "random_search":
            optimize.random_search(f, (2, 3), num_tries=5, seed=0)
        else:
            optimize.random_local_search(f, np.zeros((2, 3)), num_iters=5, seed=0)


@pytest.mark.parametrize("strategy", ["random_search", "random_local_search"])
def test_strategies_skip_non_finite_tries(strategy):
    calls = []

    def f(W):
        calls.append(1)
        return [np.nan, -np.inf, 3.0, np.inf, 2.0][(len(calls) - 1) % 5]

    if strategy == "random_search":
        result = optimize.random_search(f, (2, 3), num_tries=5, seed=0)
    else:
        result = optimize.random_local_search(f, np.zeros((2, 3)), num_iters=5, seed=0)
    assert result.loss == 2.0
    assert np.all(np.isfinite(result.best_history[2:]))


def test_random_search_with_huge_candidates_and_no_penalty_is_no_overflow(backend, kind):
    loss, _ = make(kind, backend, x_scale=1e-200)
    for block in (1, 8):
        result = optimize.random_search(loss, num_tries=8, scale=1e200, seed=0, block=block)
        assert np.isfinite(result.loss)
    with pytest.raises(FloatingPointError):
        optimize.random_search(loss.with_reg(1.0), num_tries=8, scale=1e200, seed=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_step_size_sweep_names_the_step_that_overflowed(backend, kind, dtype):
    loss, W = make(kind, backend, reg=0.1, dtype=dtype)
    for e in (300, 308):
        with pytest.raises(FloatingPointError, match=rf"loss at W - 1e\+{e} \* dW is not finite.*smaller steps"):
            optimize.step_size_sweep(loss, W, exponents=[-3, e])
    with pytest.raises(ValueError, match=r"exponents must be at most 308.*exponents\[1\] = 400"):
        optimize.step_size_sweep(loss, W, exponents=[-3, 400])
    sweep = optimize.step_size_sweep(loss, W, exponents=[-3, 1])
    assert np.all(np.isfinite(sweep.losses))


def test_step_size_sweep_of_a_callable_refuses_nan():
    W = np.ones((2, 3))
    with pytest.raises(FloatingPointError, match=r"loss at W - 0\.01 \* dW is not finite"):
        optimize.step_size_sweep(lambda V: float("nan") if V[0, 0] < 0.995 else 1.0, W, W, exponents=[-3, -2])
    with pytest.raises(FloatingPointError, match="loss at W is not finite"):
        optimize.step_size_sweep(lambda V: float("inf"), W, W)


def test_step_size_sweep_of_huge_weights_without_penalty(backend, kind):
    loss, W = make(kind, backend, x_scale=1e-200, w_scale=1e200)
    sweep = optimize.step_size_sweep(loss, W, exponents=[-3, -1])
    assert np.all(np.isfinite(sweep.losses)) and np.isfinite(sweep.loss0)


def test_tune_refuses_a_grid_where_every_model_diverged(kind):
    loss, _ = make(kind, None, x_scale=1e150)
    with pytest.raises(FloatingPointError, match="every one of the 2 models diverged"):
        optimize.tune(loss, [1e10, 1e20], [0.0], num_iters=20, batch_size=4, seed=0)


def test_gradient_descent_whose_last_step_overflows_the_loss_raises(backend):
    """The last step's W is finite but its loss is not: the result would report loss = inf."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 50)) * 30
    y = rng.integers(0, 3, 50)
    loss = steepest.SVMLoss(X, y, backend=backend)
    W = np.zeros((3, 20)) - 1e305 * loss.grad(np.zeros((3, 20)))  # where the one step lands
    assert np.isfinite(W).all() and not np.isfinite(loss.scores(W)).all()
    with pytest.raises(FloatingPointError, match="at step 1"):
        optimize.gradient_descent(loss, np.zeros((3, 20)), step_size=1e305, num_iters=1)


@pytest.mark.parametrize("strategy", ["random_search", "random_local_search"])
def test_a_search_stopped_before_its_first_try_raises_instead_of_a_nan_loss(strategy):
    """Ctrl-C before any candidate was evaluated leaves nothing to return: KeyboardInterrupt, not loss = NaN."""

    def interrupted(W):
        raise KeyboardInterrupt

    search = getattr(optimize, strategy)
    args = {"shape": (3, 4)} if strategy == "random_search" else {"W0": np.zeros((3, 4))}
    with pytest.raises(KeyboardInterrupt):
        search(interrupted, num_tries=5, seed=0, **args) if strategy == "random_search" else search(
            interrupted, num_iters=5, seed=0, **args
        )
