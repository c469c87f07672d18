"""Numerical gradients: the exact fast path against the notes' loop, kink counts, gradient checks."""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import reference
from steepest.gradients import grade

import naive
from naive import kink_problem, make_problem


def exact_loop(kind, W, X, y, reg, h, method):
    """The notes' loop without its round-off: the exact loss changes for the loop's own steps
    (``naive.svm_fd`` / ``naive.softmax_fd``, extended precision), divided as the loop divides."""
    if kind == "svm":
        plus, minus, _ = naive.svm_fd(W, X, y, reg, 1.0, h)
    else:
        plus, minus = naive.softmax_fd(W, X, y, reg, h)
    return plus / h if method == "forward" else (plus - minus) / (2 * h)


PROBLEMS = {
    "random": lambda: make_problem(4, 6, 37, seed=1, scale=0.3),
    "kinks": kink_problem,
    "fortran": lambda: make_problem(3, 5, 20, seed=2, order="F"),
}


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize("method", ["forward", "centered"])
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_fast_path_equals_the_loop_on_every_weight(backend, problem, kind, method, reg):
    W, X, y = PROBLEMS[problem]()
    h = 1e-5
    if kind == "svm":
        loss = steepest.SVMLoss(X, y, reg=reg, delta=1.0, backend=backend)
        f64 = lambda V: reference.svm_loss_vectorized(V, X, y, reg, 1.0)[0]
    else:
        loss = steepest.SoftmaxLoss(X, y, reg=reg, backend=backend)
        f64 = lambda V: reference.softmax_loss_vectorized(V, X, y, reg)[0]
    fast = steepest.eval_numerical_gradient(loss, W, h=h, method=method)
    assert fast.dtype == np.float64 and fast.shape == W.shape
    # against the loop computed with extended-precision losses: relative 1e-8 or absolute 1e-12
    precise = exact_loop(kind, W, X, y, reg, h, method)
    np.testing.assert_allclose(fast, precise, rtol=1e-8, atol=1e-12)
    # against the literal float64 loop of the notes, up to that loop's own cancellation error
    literal = (
        reference.eval_numerical_gradient if method == "forward" else reference.eval_numerical_gradient_centered
    )(f64, W.copy(), h)
    noise = 16 * np.finfo(np.float64).eps * max(1.0, abs(f64(W))) / h
    np.testing.assert_allclose(fast, literal, rtol=1e-8, atol=noise)


@pytest.mark.parametrize("h", [1e-5, 0.3])
def test_kink_counts_equal_a_brute_force_count(backend, h):
    for W, X, y in (kink_problem(seed=3), make_problem(3, 4, 25, seed=4)):
        fd = steepest.numerical_gradient(steepest.SVMLoss(X, y, backend=backend), W, h=h)
        np.testing.assert_array_equal(fd.kinks, naive.svm_kinks(W, X, y, 1.0, h))
        assert fd.kinks.dtype == np.int64
    assert naive.svm_kinks(*kink_problem(seed=3), 1.0, 1e-5).sum() > 0


def test_one_sided_differences_bracket_the_analytic_gradient_of_the_convex_svm(backend):
    W, X, y = kink_problem(seed=5)
    loss = steepest.SVMLoss(X, y, reg=0.1, backend=backend)
    fd = steepest.numerical_gradient(loss, W, h=1e-5)
    analytic = loss.grad(W)
    assert np.all(fd.backward <= analytic + 1e-9) and np.all(analytic <= fd.forward + 1e-9)
    np.testing.assert_allclose(fd.centered, (fd.forward + fd.backward) / 2, rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def cifar_shaped_loop():
    """A CIFAR-shaped problem and the notes' centered loop on 60 sampled weights and the bias column, for the
    SVM (reg 0.5) and the softmax: the reference evaluations (the costly part) made once, shared by every backend."""
    rng = np.random.default_rng(6)
    D, N, C = 3073, 2000, 10
    X = rng.standard_normal((D, N))
    X[-1] = 1.0
    y = rng.integers(0, C, N)
    W = rng.standard_normal((C, D)) * 1e-3
    loops = {}
    for name, f in (
        ("svm", lambda V: reference.svm_loss_vectorized(V, X, y, 0.5)[0]),
        ("softmax", lambda V: reference.softmax_loss_vectorized(V, X, y)[0]),
    ):
        picks = [(int(rng.integers(C)), int(rng.integers(D))) for _ in range(60)] + [(c, D - 1) for c in range(C)]
        noise = 16 * np.finfo(float).eps * abs(f(W)) / 1e-5
        values = []
        for ix in picks:
            Wp, Wm = W.copy(), W.copy()
            Wp[ix] += 1e-5
            Wm[ix] -= 1e-5
            values.append((f(Wp) - f(Wm)) / 2e-5)
        loops[name] = (picks, values, noise)
    return X, y, W, loops


def test_cifar_shaped_problem_on_sampled_weights_and_the_bias_column(backend, cifar_shaped_loop):
    X, y, W, loops = cifar_shaped_loop
    for name, loss in (
        ("svm", steepest.SVMLoss(X, y, reg=0.5, backend=backend)),
        ("softmax", steepest.SoftmaxLoss(X, y, backend=backend)),
    ):
        fast = steepest.eval_numerical_gradient(loss, W, method="centered")
        picks, values, noise = loops[name]
        for ix, loop in zip(picks, values):
            assert abs(fast[ix] - loop) <= 1e-8 * abs(loop) + noise, (name, ix)


def test_float32_losses_are_computed_in_float64_with_a_note(backend):
    W, X, y = make_problem(3, 4, 30, np.float32, seed=7)
    fd = steepest.numerical_gradient(steepest.SVMLoss(X, y, backend=backend), W)
    assert "float64" in fd.note
    ref = steepest.numerical_gradient(steepest.SVMLoss(X.astype(np.float64), y, backend=backend), W.astype(np.float64))
    np.testing.assert_array_equal(fd.centered, ref.centered)
    with pytest.raises(TypeError, match="x must be float64"):
        steepest.eval_numerical_gradient(lambda v: float(v.sum()), np.ones(3, dtype=np.float32))


def test_plain_callables_run_the_loop_and_restore_x():
    x = np.array([1.0, -2.0, 3.0])
    f = lambda v: float(np.sum(v**3))
    g = steepest.eval_numerical_gradient(f, x, method="centered")
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(
        steepest.eval_numerical_gradient(f, x), reference.eval_numerical_gradient(f, x.copy())
    )

    calls = []

    def failing(v):
        calls.append(v.copy())
        if len(calls) == 3:
            raise RuntimeError("model blew up")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="blew up"):
        steepest.eval_numerical_gradient(failing, x)
    assert np.array_equal(x, [1.0, -2.0, 3.0])
    assert calls[2][1] == -2.0 + 1e-5  # it failed while x[1] was perturbed, and x[1] was restored


def test_progress_bar_for_long_loops(capsys):
    pytest.importorskip("tqdm")
    g = steepest.eval_numerical_gradient(lambda v: float(v @ v), np.ones(50), progress=True)
    np.testing.assert_allclose(g, 2.0, rtol=1e-4)
    assert "weight" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"h": 0.0}, ValueError, "h must be > 0"),
        ({"h": -1e-5}, ValueError, "h must be > 0"),
        ({"h": np.nan}, ValueError, "h must be finite"),
        ({"h": np.inf}, ValueError, "h must be finite"),
        ({"h": "1e-5"}, TypeError, "h must be a real number"),
        ({"h": 1e-30}, ValueError, r"h = 1e-30 is too small for W: W\[0, 0\]"),
        ({"method": "central"}, ValueError, r"method must be one of \('forward', 'centered'\)"),
        ({"method": None}, TypeError, "method must be a str"),
    ],
)
def test_bad_arguments(backend, kwargs, error, message):
    W, X, y = make_problem(3, 4, 10, seed=8)
    W[0, 0] = 1e5
    for loss in (steepest.SVMLoss(X, y, backend=backend), steepest.SoftmaxLoss(X, y, backend=backend)):
        with pytest.raises(error, match=message):
            steepest.eval_numerical_gradient(loss, W, **kwargs)
    if "too small" in message:
        with pytest.raises(ValueError, match=r"too small for x: x\[0, 0\]"):
            steepest.eval_numerical_gradient(lambda v: 0.0, W, **kwargs)


def test_bad_f_and_x():
    with pytest.raises(TypeError, match="f must be callable"):
        steepest.eval_numerical_gradient(3.0, np.ones(3))
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        steepest.eval_numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="x must have dtype float32 or float64"):
        steepest.eval_numerical_gradient(lambda v: 0.0, np.ones(3, dtype=int))
    with pytest.raises(ValueError, match="x must be finite"):
        steepest.eval_numerical_gradient(lambda v: 0.0, np.array([1.0, np.nan]))
    W, X, y = make_problem(3, 4, 10, seed=9)
    with pytest.raises(ValueError, match=r"W.shape\[1\] must equal"):
        steepest.eval_numerical_gradient(steepest.SVMLoss(X, y), W[:, :2])


def test_relative_error():
    np.testing.assert_allclose(
        steepest.relative_error([1.0, 0.0, -1.0], [1.0 + 1e-8, 0.0, 1.0]), [5e-9, 0.0, 1.0], rtol=1e-6
    )
    with pytest.raises(ValueError, match="same shape"):
        steepest.relative_error(np.ones(2), np.ones(3))


def test_grad_check_explains_kinks_and_finds_bugs(backend):
    W, X, y = kink_problem(C=4, D=5, N=40, seed=10)
    loss = steepest.SVMLoss(X, y, reg=0.05, backend=backend)
    report = steepest.grad_check(loss, W, h=1e-5)
    counts = report.counts()
    assert counts["bug"] == 0 and counts["kink"] > 0, counts  # mismatches exist, all explained
    assert report.ok and report.loop_evaluations == 2 * W.size
    text = str(report)
    assert "gradient check" in text and "worst weights" in text and "kink" in text
    broken = loss.grad(W)
    broken[1, 2] += 0.5  # a real bug in one weight
    bad = steepest.grad_check(loss, W, analytic=broken)
    assert not bad.ok and bad.verdicts[1, 2] == "bug" and bad.grade == "wrong"
    assert bad.worst(1)[0][0] == "(1, 2)"


def test_grad_check_smooth_loss_is_good(backend):
    W, X, y = make_problem(5, 8, 100, seed=11, scale=0.1)
    report = steepest.grad_check(steepest.SoftmaxLoss(X, y, reg=0.1, backend=backend), W)
    assert report.max_error < 1e-6 and report.ok and report.counts()["agrees"] == W.size
    assert report.loss_evaluations > 0 and report.elapsed > 0


def test_grade_follows_the_notes():
    assert (
        grade(1e-8) == "good"
        and grade(1e-5).startswith("acceptable")
        and grade(1e-3) == "doubtful"
        and grade(0.5) == "wrong"
    )


def test_grad_check_with_a_plain_callable():
    x = np.array([0.5, -1.5])
    report = steepest.grad_check(lambda v: float(np.sum(np.sin(v))), x, analytic=np.cos(x))
    assert report.ok and report.max_error < 1e-8 and report.backend == "python loop"
    with pytest.raises(TypeError, match="analytic is required"):
        steepest.grad_check(lambda v: 0.0, x)


def test_grad_check_sparse_is_stratified(capsys):
    W, X, y = make_problem(4, 30, 50, seed=12, scale=0.1)
    f = lambda V: reference.softmax_loss_vectorized(V, X, y)[0]
    analytic = reference.softmax_loss_vectorized(W, X, y)[1]
    before = W.copy()
    results = steepest.grad_check_sparse(f, W, analytic, num_checks=8, seed=0)
    assert np.array_equal(W, before)
    assert len(results) == 8
    assert {ix[0] for ix, *_ in results} == {0, 1, 2, 3}  # every class row
    assert sum(ix[1] == 29 for ix, *_ in results) >= 4  # the bias column
    assert all(err < 1e-7 for *_, err in results)
    assert capsys.readouterr().out.count("relative error:") == 8
    again = steepest.grad_check_sparse(f, W, analytic, num_checks=8, seed=0, verbose=False)
    assert [r[0] for r in again] == [r[0] for r in results]


def test_h_sweep_shows_the_trade_off(backend):
    W, X, y = make_problem(3, 10, 200, seed=13, scale=0.01)
    sweep = steepest.h_sweep(steepest.SoftmaxLoss(X, y, backend=backend), W, sample=6)
    assert len(sweep.hs) == 10 and sweep.sample == 6
    # the loop's round-off grows for tiny h; the exact fast path does not suffer it
    assert sweep.loop_max_error[-1] > 100 * sweep.loop_max_error.min()
    assert sweep.exact_max_error[-1] < sweep.loop_max_error[-1] / 100
    assert 1e-8 <= sweep.recommended_h <= 1e-2
    assert "recommended" in str(sweep)
    with pytest.raises(ValueError, match="hs must be"):
        steepest.h_sweep(steepest.SoftmaxLoss(X, y), W, hs=[1e-3, -1.0])


def test_grad_check_verdicts_and_the_estimate(backend):
    W, X, y = make_problem(5, 8, 100, seed=14, scale=0.5, x_scale=30.0)
    loss = steepest.SoftmaxLoss(X, y, reg=0.1, backend=backend)
    report = steepest.grad_check(loss, W, method="forward")
    counts = report.counts()
    assert tuple(counts) == steepest.gradients.VERDICTS == ("agrees", "kink", "truncation", "bug")
    assert counts["truncation"] > 0 and counts["bug"] == 0 and report.ok
    assert report.reference.shape == W.shape and report.uncertainty.shape == W.shape
    assert report.passes == 4 and report.estimate_elapsed > 0 and "Richardson" in report.estimate
    # forward's truncation error, estimated per weight, is numerical - reference
    np.testing.assert_array_equal(report.truncation, report.numerical - report.reference)
    assert np.nanmax(report.reference_errors) < 1e-9
    # the SVM without a kink within h needs no second sweep: its centered difference is exact
    svm = steepest.grad_check(steepest.SVMLoss(X, y, backend=backend), W)
    if not np.any(svm.kinks):
        assert svm.passes == 2 and svm.estimate_elapsed == 0.0


def test_grad_check_plain_callable_estimates_the_loops_truncation_error():
    x = np.array([0.5, -1.5])
    f = lambda v: float(np.sum(v**3))  # noqa: E731
    report = steepest.grad_check(f, x, analytic=3 * x**2, method="forward", h=1e-3)
    assert report.counts() == {"agrees": 0, "kink": 0, "truncation": 2, "bug": 0} and report.ok
    np.testing.assert_allclose(report.reference, 3 * x**2, rtol=1e-9)  # Richardson is exact for a cubic
    np.testing.assert_allclose(report.truncation, 3 * x * 1e-3 + 1e-6, rtol=1e-6)  # forward's h f''/2 + h^2 f'''/6
    assert report.passes == 0 and "4 evaluations of f per weight" in str(report)
    assert np.array_equal(x, [0.5, -1.5])
    assert steepest.grad_check(f, x, analytic=3 * x**2 + [0.0, 1e-3], method="forward", h=1e-3).bugs() == [(1,)]
    # without the estimate only kinks explain a disagreement: the loop's truncation error reads as a bug
    plain = steepest.grad_check(f, x, analytic=3 * x**2, method="forward", h=1e-3, estimate=False)
    assert plain.counts()["bug"] == 2 and plain.reference is None and plain.estimate == ""
    assert "error estimate" not in str(plain)


def test_grad_check_of_the_notes_losses_as_plain_callables():
    W, X, y = make_problem(3, 12, 60, seed=15, scale=0.3, x_scale=20.0)
    for f, g in (
        (
            lambda V: reference.softmax_loss_vectorized(V, X, y, 0.1)[0],
            reference.softmax_loss_vectorized(W, X, y, 0.1)[1],
        ),
        (lambda V: reference.svm_loss_vectorized(V, X, y, 0.1)[0], reference.svm_loss_vectorized(W, X, y, 0.1)[1]),
    ):
        for method in ("forward", "centered"):
            assert steepest.grad_check(f, W, analytic=g, method=method).ok
        bad = g.copy()
        bad[1, 11] += 1e-3 * abs(g).max()
        assert steepest.grad_check(f, W, analytic=bad).bugs() == [(1, 11)]


def test_h_sweep_counts_false_verdicts(backend):
    W, X, y = make_problem(3, 10, 200, seed=13, scale=0.01)
    sweep = steepest.h_sweep(steepest.SoftmaxLoss(X, y, backend=backend), W, sample=4)
    assert sweep.false_bugs.shape == sweep.hs.shape and sweep.explained.shape == sweep.hs.shape
    assert sweep.false_bugs[list(sweep.hs).index(sweep.recommended_h)] == 0
    assert "false bugs" in str(sweep)
