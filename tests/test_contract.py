"""Every backend against the kernel contract (``steepest._backends.contract``).

(a) Each backend module implements every member of ``Kernels`` with the declared parameter names, in
order (Python functions through ``inspect.signature``, the pybind11 functions of ``_core`` through
the signature line of their docstring); the hand-written stub ``_core.pyi`` declares them too.
(b) Each kernel equals the slow, obvious reference of ``tests/naive.py`` on many shapes (N not a
multiple of any block or tile size, C = 2, D = 1), both dtypes, both memory orders of X, reg 0 and
> 0, whole passes and mini-batches (repeats, indices near N - 1).

The references are computed once per problem and shared by the backends and the memory orders.
``test_cpp_core.test_every_simd_path`` runs this file again for the cpp backend (``-k cpp``) under
every SIMD path the CPU has. What one backend alone promises (SIMD dispatch, the GIL, Ctrl-C, block
sizes, bitwise identity across thread counts) is tested in test_cpp_core.py and test_numba_kernels.py.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import steepest
from steepest import _backends
from steepest._backends.contract import KERNEL_NAMES, Kernels

import naive

BACKENDS = steepest.backends()

# float32 to 1e-5 relative; float64 losses to 1e-12 relative, gradients to 1e-10 (of max |dW|);
# scores to 1e-12 (float64) or 1e-6 (float32, against the float64 reference rounded to float32).
LOSS_TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
GRAD_TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
SCORE_TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


def kernels(backend):
    return _backends.get(backend)


# ============================================================================ (a) the interface


def declared(name):
    """The parameter names of ``Kernels.<name>``, without ``self``."""
    return list(inspect.signature(getattr(Kernels, name)).parameters)[1:]


def _split_top_level(text):
    """Split ``text`` at the commas outside brackets (annotations such as ``tuple[int, int]``)."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def doc_parameters(func, name):
    """The parameter names in the signature line pybind11 writes first in a function's docstring:
    ``name(W: numpy.ndarray, X: ..., n_threads: int) -> ...``."""
    first = (func.__doc__ or "").splitlines()[0] if func.__doc__ else ""
    match = re.match(rf"{name}\((.*)\)\s*->", first)
    assert match, f"{name}: no signature line in the docstring: {first!r}"
    return [re.split(r"[:=]", p)[0].strip() for p in _split_top_level(match.group(1))]


def implemented(func, name):
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):  # a pybind11 builtin: no __text_signature__
        return doc_parameters(func, name)


def test_the_protocol_declares_the_kernel_names():
    members = [n for n, v in vars(Kernels).items() if callable(v) and not n.startswith("_")]
    assert members == list(KERNEL_NAMES)
    assert declared("scores") == ["W", "X", "idx", "n_threads"]
    assert declared("svm_grid") == ["S0", "S1", "S2", "y", "alphas", "betas", "delta", "n_threads"]
    for name in KERNEL_NAMES:
        assert inspect.getdoc(getattr(Kernels, name)), name
        params = list(inspect.signature(getattr(Kernels, name)).parameters.values())[1:]
        required = [p.name for p in params if p.default is inspect.Parameter.empty]
        assert required[-1] == "n_threads", name  # optional parameters (with defaults) may follow
        assert [p.name for p in params[: len(required)]] == required, name


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_backend_implements_the_member(backend, name):
    module = kernels(backend)
    assert isinstance(module, Kernels)
    func = getattr(module, name, None)
    assert callable(func), f"{backend} has no kernel {name}"
    assert implemented(func, name) == declared(name)


def test_the_core_stub_declares_the_contract():
    stub = Path(steepest.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    found = {node.name: [a.arg for a in node.args.args] for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name in KERNEL_NAMES:
        assert found.get(name) == declared(name), name
    assert "contract" in (ast.get_docstring(tree) or "")


# ============================================================================ (b) losses, gradients, scores

# (C, D, N): tiny; D = 1; C = 2; ragged tiles of 16 and 32; D over the numba gradient span (256) with
# N over two numba blocks (512) and one finite-difference block (1024); N over the numpy block (4096);
# chunks long enough for the cpp core's spread tiles (8 tiles of every 8th example: N over 7,168)
SHAPES = [
    (2, 1, 1),
    (3, 7, 2),
    (2, 64, 1),
    (2, 300, 2),
    (3, 1, 17),
    (7, 33, 83),
    (10, 37, 203),
    (3, 1, 515),
    (10, 1, 1000),
    (10, 300, 1037),
    (3, 5, 4099),
    (3, 5, 9001),
]
IDX_KINDS = ("all", "random", "edge")
REGS = (0.0, 0.3)


@functools.cache
def loss_problem(shape, dtype):
    C, D, N = shape
    return naive.make_problem(C, D, N, np.dtype(dtype), seed=C * 1000 + D + N, scale=2 / np.sqrt(D))


@functools.cache
def example_positions(N, kind):
    if kind == "all":
        return None
    if kind == "random":  # a mini-batch with repeats, as the assignment samples it
        return np.random.default_rng(N).integers(0, N, 2 * N + 5).astype(np.int64)
    edge = np.arange(min(N, 40), dtype=np.int64)
    edge[len(edge) // 3] = N - 1  # the first and last of a tile far apart, yet in one tile
    return np.concatenate([edge, [N - 1, 0, N - 1]]).astype(np.int64)


@functools.cache
def reference_losses(shape, dtype, kind, reg):
    W, X, y = loss_problem(shape, dtype)
    idx = example_positions(shape[2], kind)
    return (
        naive.scores(W, X, idx),
        naive.svm_loss_grad(W, X, y, idx, reg, 1.0),
        naive.softmax_loss_grad(W, X, y, idx, reg),
    )


def as_order(X, order):
    return np.asfortranarray(X) if order == "F" else np.ascontiguousarray(X)


def check_loss(loss, dW, ref, W, tol_loss, tol_grad):
    ref_loss, ref_dW = ref
    assert type(loss) is float
    assert abs(loss - ref_loss) <= tol_loss * abs(ref_loss), (loss, ref_loss)
    assert dW.dtype == W.dtype and dW.shape == W.shape and dW.flags.c_contiguous
    np.testing.assert_allclose(dW, ref_dW, rtol=0, atol=tol_grad * np.abs(ref_dW).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_losses_gradients_scores_equal_naive(backend, dtype, shape):
    k = kernels(backend)
    dt = np.dtype(dtype)
    W, X0, y = loss_problem(shape, dt)
    for order in ("C", "F"):
        X = as_order(X0, order)
        for kind in IDX_KINDS:
            idx = example_positions(shape[2], kind)
            for reg in REGS:
                ref_S, ref_svm, ref_soft = reference_losses(shape, dt, kind, reg)
                where = (order, kind, reg)
                if reg == REGS[0]:
                    S = k.scores(W, X, idx, 2)
                    assert S.dtype == dt and S.shape == ref_S.shape and S.flags.c_contiguous, where
                    tol = SCORE_TOL[dt]
                    np.testing.assert_allclose(S, ref_S.astype(dt), rtol=tol, atol=tol, err_msg=str(where))
                loss, dW = k.svm_loss_grad(W, X, y, idx, reg, 1.0, True, 2)
                check_loss(loss, dW, ref_svm, W, LOSS_TOL[dt], GRAD_TOL[dt])
                loss_only, none = k.svm_loss_grad(W, X, y, idx, reg, 1.0, False, 2)
                assert none is None and loss_only == loss, where
                loss, dW = k.softmax_loss_grad(W, X, y, idx, reg, True, 2)
                check_loss(loss, dW, ref_soft, W, LOSS_TOL[dt], GRAD_TOL[dt])
                loss_only, none = k.softmax_loss_grad(W, X, y, idx, reg, False, 2)
                assert none is None and loss_only == loss, where


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_stacked_losses_and_gradients_equal_naive_per_model(backend, dtype, shape):
    """Three models stacked, each with its own weights and reg, against the naive loss of each alone."""
    k = kernels(backend)
    dt = np.dtype(dtype)
    W0, X0, y = loss_problem(shape, dt)
    W = np.ascontiguousarray(np.stack([W0, -0.5 * W0, 2.0 * W0[::-1]]))
    regs = np.array([0.0, 0.3, 1.7])
    for order in ("C", "F"):
        X = as_order(X0, order)
        for kind in IDX_KINDS:
            idx = example_positions(shape[2], kind)
            for name, (losses, dW), naive_loss in (
                ("svm", k.svm_stacked_loss_grad(W, X, y, idx, regs, 1.0, 2), naive.svm_loss_grad),
                ("softmax", k.softmax_stacked_loss_grad(W, X, y, idx, regs, 2), naive.softmax_loss_grad),
            ):
                assert losses.dtype == np.float64 and losses.shape == (3,), (name, order, kind)
                assert dW.dtype == dt and dW.shape == W.shape and dW.flags.c_contiguous, (name, order, kind)
                alone = getattr(k, f"{name}_stacked_losses")(W, X, y, idx, regs, *((1.0,) if name == "svm" else ()), 2)
                np.testing.assert_allclose(alone, losses, rtol=LOSS_TOL[dt], atol=0)
                for m in range(3):
                    args = (W[m], X0, y, idx, regs[m]) + ((1.0,) if name == "svm" else ())
                    ref_loss, ref_dW = naive_loss(*args)
                    check_loss(float(losses[m]), dW[m], (ref_loss, ref_dW), W[m], LOSS_TOL[dt], GRAD_TOL[dt])


def many_models(W0, K):
    """K distinct models from one: scaled, sign-flipped and class-permuted copies, each with its own reg."""
    rng = np.random.default_rng(K)
    W = np.stack([rng.uniform(-2, 2) * W0[rng.permutation(W0.shape[0])] for _ in range(K)])
    return np.ascontiguousarray(W), rng.uniform(0.0, 2.0, K)


# Enough models for at least 4 panels of rows at every SIMD width: the cpp core's panel pass.
PANEL_SHAPES = [(2, 1, 5), (3, 7, 2), (7, 33, 83), (10, 300, 1037), (5, 131, 140)]


def panel_models(shape):
    return -(-100 // shape[0])  # K * C >= 100 rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", PANEL_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_many_stacked_models_equal_naive_per_model(backend, dtype, shape):
    """Ten models and more (the hyper-parameter grid's size), every one against its naive loss alone:
    features and examples in blocks with ragged ends, repeated examples, both memory orders."""
    k = kernels(backend)
    dt = np.dtype(dtype)
    W0, X0, y = loss_problem(shape, dt)
    W, regs = many_models(W0, panel_models(shape))
    for order in ("C", "F"):
        X = as_order(X0, order)
        for kind in IDX_KINDS:
            idx = example_positions(shape[2], kind)
            for name, (losses, dW), alone, naive_loss in (
                (
                    "svm",
                    k.svm_stacked_loss_grad(W, X, y, idx, regs, 1.0, 2),
                    k.svm_stacked_losses(W, X, y, idx, regs, 1.0, 2),
                    naive.svm_loss_grad,
                ),
                (
                    "softmax",
                    k.softmax_stacked_loss_grad(W, X, y, idx, regs, 2),
                    k.softmax_stacked_losses(W, X, y, idx, regs, 2),
                    naive.softmax_loss_grad,
                ),
            ):
                assert dW.dtype == dt and dW.shape == W.shape, (name, order, kind)
                assert alone.dtype == np.float64 and alone.shape == (len(W),), (name, order, kind)
                for m in range(len(W)):
                    args = (W[m], X0, y, idx, regs[m]) + ((1.0,) if name == "svm" else ())
                    ref = naive_loss(*args)
                    check_loss(float(losses[m]), dW[m], ref, W[m], LOSS_TOL[dt], GRAD_TOL[dt])
                    assert abs(float(alone[m]) - ref[0]) <= LOSS_TOL[dt] * abs(ref[0]), (name, m, alone[m], ref[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("models", [3, "many"])
@pytest.mark.parametrize("shape", [(3, 7, 2), (7, 33, 83), (10, 300, 1037)], ids=lambda s: "x".join(map(str, s)))
def test_stacked_training_step_is_numpys_update(backend, dtype, shape, models):
    """``step_sizes``/``out``: the step written in the kernel call is bitwise ``dW *= step_sizes;
    np.add(W, dW, out=out)`` on the gradient of the same backend, also into W itself; losses unchanged."""
    k = kernels(backend)
    dt = np.dtype(dtype)
    W0, X0, y = loss_problem(shape, dt)
    if models == 3:
        W = np.ascontiguousarray(np.stack([W0, -0.5 * W0, 2.0 * W0[::-1]]))
        regs = np.array([0.0, 0.3, 1.7])
        step_sizes = -np.array([1e-3, 0.7, 3.0])
    else:
        W, regs = many_models(W0, panel_models(shape))
        step_sizes = -np.geomspace(1e-3, 3.0, len(W))
    for order in ("C", "F"):
        X = as_order(X0, order)
        idx = example_positions(shape[2], "random")
        for name, kernel, rule in (
            ("svm", k.svm_stacked_loss_grad, (1.0,)),
            ("softmax", k.softmax_stacked_loss_grad, ()),
        ):
            losses, dW = kernel(W, X, y, idx, regs, *rule, 2)
            dW *= step_sizes[:, None, None]
            expected = np.add(W, dW)
            out = np.full_like(W, np.nan)
            step_losses, none = kernel(W, X, y, idx, regs, *rule, 2, step_sizes, out)
            assert none is None and np.array_equal(step_losses, losses), (name, order)
            assert np.array_equal(out.view(np.uint8), expected.view(np.uint8)), (name, order)
            W_in = W.copy()  # out is W itself: each model's weights are read before they are overwritten
            kernel(W_in, X, y, idx, regs, *rule, 2, step_sizes, W_in)
            assert np.array_equal(W_in.view(np.uint8), expected.view(np.uint8)), (name, order, "in place")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("models", [1, 3, "many"])
@pytest.mark.parametrize("shape", [(3, 7, 2), (7, 33, 83), (10, 300, 1037)], ids=lambda s: "x".join(map(str, s)))
def test_stacked_train_is_its_steps_in_turn(backend, dtype, shape, models):
    """``*_stacked_train`` (the grid's loop in one call): the losses and the final weights are bitwise
    those of one stepping stacked call a step, for one model, a few and the panel pass's many, both
    memory orders, also into W itself; batches with repeats; W is not touched when out is another array."""
    k = kernels(backend)
    dt = np.dtype(dtype)
    W0, X0, y = loss_problem(shape, dt)
    if models == "many":
        W, regs = many_models(W0, panel_models(shape))
    else:
        W, regs = many_models(W0, models)
    step_sizes = -np.geomspace(1e-3, 3.0, len(W))
    batches = np.random.default_rng(7).integers(0, shape[2], (4, max(1, shape[2] // 2)))
    for order in ("C", "F"):
        X = as_order(X0, order)
        for name, stacked, train, rule in (
            ("svm", k.svm_stacked_loss_grad, k.svm_stacked_train, (1.0,)),
            ("softmax", k.softmax_stacked_loss_grad, k.softmax_stacked_train, ()),
        ):
            now, expected = W.copy(), []
            for idx in batches:
                following = np.empty_like(now)
                expected.append(stacked(now, X, y, idx, regs, *rule, 2, step_sizes, following)[0])
                now = following
            W_before = W.copy()
            out = np.full_like(W, np.nan)
            losses = train(W, X, y, batches, regs, *rule, step_sizes, out, 2)
            assert losses.dtype == np.float64 and losses.shape == (len(batches), len(W)), (name, order)
            assert np.array_equal(losses, np.array(expected)), (name, order)
            assert np.array_equal(out.view(np.uint8), now.view(np.uint8)), (name, order)
            assert np.array_equal(W.view(np.uint8), W_before.view(np.uint8)), (name, order)
            W_in = W.copy()
            train(W_in, X, y, batches, regs, *rule, step_sizes, W_in, 1)
            assert np.array_equal(W_in.view(np.uint8), now.view(np.uint8)), (name, order, "in place")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", [(3, 7, 2), (10, 300, 1037), (130, 40, 90)], ids=lambda s: "x".join(map(str, s)))
def test_one_stacked_model_is_the_single_kernel_bitwise(backend, dtype, shape):
    """K = 1 (the loops' fused step): the loss and gradient are bitwise the single-model kernel's,
    also with more classes than the stacked passes' row thresholds (130), both memory orders, with and
    without idx; the step is bitwise ``grad *= lr; W - grad`` of that gradient."""
    k = kernels(backend)
    dt = np.dtype(dtype)
    W, X0, y = loss_problem(shape, dt)
    regs = np.array([0.7])
    lr = 0.37  # rounded to W's dtype, as NumPy rounds a Python float multiplying a float32 array
    for order in ("C", "F"):
        X = as_order(X0, order)
        for idx in (None, example_positions(shape[2], "random")):
            for name, single, stacked, rule in (
                ("svm", k.svm_loss_grad, k.svm_stacked_loss_grad, (1.0,)),
                ("softmax", k.softmax_loss_grad, k.softmax_stacked_loss_grad, ()),
            ):
                loss, grad = single(W, X, y, idx, float(regs[0]), *rule, True, 2)
                losses, dW = stacked(W[None], X, y, idx, regs, *rule, 2)
                assert losses[0] == loss and np.array_equal(dW[0].view(np.uint8), grad.view(np.uint8)), (name, order)
                grad *= dt.type(lr)
                out = np.full_like(W, np.nan)
                step_losses, _ = stacked(W[None], X, y, idx, regs, *rule, 2, np.array([-float(dt.type(lr))]), out[None])
                assert step_losses[0] == loss, (name, order)
                assert np.array_equal(out.view(np.uint8), (W - grad).view(np.uint8)), (name, order, idx is None)


@pytest.mark.parametrize("order", ["C", "F"])
def test_svm_ties_and_margins_exactly_zero(backend, order):
    """Integer data: margins exactly 0 add nothing (not positive), tied scores; exact results."""
    k = kernels(backend)
    X = as_order(np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 1.0]]), order)
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 2], dtype=np.int64)
    for delta in (1.0, 2.0):
        loss, dW = k.svm_loss_grad(W, X, y, None, 0.0, delta, True, 1)
        ref_loss, ref_dW = naive.svm_loss_grad(W, X, y, None, 0.0, delta)
        assert loss == pytest.approx(ref_loss, rel=1e-15)
        np.testing.assert_allclose(dW, ref_dW, atol=1e-15)


@pytest.mark.parametrize("problem", ["wide-scores", "huge-W"])
def test_softmax_huge_score_gaps_stay_finite_and_exact(backend, problem):
    """The log-sum-exp form: score gaps far beyond exp's range give finite, exact losses."""
    k = kernels(backend)
    if problem == "wide-scores":
        W, X, y = naive.make_problem(5, 20, 99, scale=300.0)
    else:
        W, X, y = naive.make_problem(3, 4, 50, scale=1e4)
    loss, dW = k.softmax_loss_grad(W, X, y, None, 0.0, True, 2)
    ref_loss, ref_dW = naive.softmax_loss_grad(W, X, y, None, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    assert abs(loss - ref_loss) <= 1e-12 * ref_loss
    np.testing.assert_allclose(dW, ref_dW, rtol=1e-10, atol=1e-10 * np.abs(ref_dW).max())


def test_overflow_is_returned_not_hidden(backend):
    """Kernels never raise on overflow: the loss comes back non-finite (the Python layer raises)."""
    k = kernels(backend)
    W, X, y = naive.make_problem(4, 8, 30)
    W[0, 0] = 1e308
    X[0, :] = 1e10
    with np.errstate(all="ignore"):
        loss, _ = k.svm_loss_grad(W, X, y, None, 0.0, 1.0, True, 1)
    assert not np.isfinite(loss)


# ============================================================================ (b) finite differences

FD_RANDOM = dict(rtol=1e-8, scale_tol=1e-13, atol=0.0)  # relative, plus relative to the largest change
FD_EXACT = dict(rtol=1e-12, scale_tol=0.0, atol=1e-15)  # exact binary data: no rounding anywhere
# name: (problem builder, h, reg, tolerance)
FD_CASES = {
    "4x50x61-h1e-5": (lambda: naive.make_problem(4, 50, 61, seed=3), 1e-5, 0.2, FD_RANDOM),
    "4x50x61-h1e-3": (lambda: naive.make_problem(4, 50, 61, seed=3), 1e-3, 0.2, FD_RANDOM),
    "4x50x61-h0.05": (lambda: naive.make_problem(4, 50, 61, seed=3), 0.05, 0.2, FD_RANDOM),
    "4x50x61-h0.4": (lambda: naive.make_problem(4, 50, 61, seed=3), 0.4, 0.2, FD_RANDOM),
    "2x3x5": (lambda: naive.make_problem(2, 3, 5, seed=5, scale=0.1), 1e-5, 0.1, FD_RANDOM),
    "3x1x1037-reg0": (lambda: naive.make_problem(3, 1, 1037, seed=6), 1e-5, 0.0, FD_RANDOM),
    "3x4x1037": (lambda: naive.make_problem(3, 4, 1037, seed=7, scale=0.1), 1e-4, 0.1, FD_RANDOM),
    "3x4x9001": (lambda: naive.make_problem(3, 4, 9001, seed=8, scale=0.1), 1e-4, 0.1, FD_RANDOM),
    # |e x| too large for the moment series of the numba and cpp softmax: the library fallback
    "x-times-3e3": (lambda: naive.make_problem(3, 5, 17, seed=7, scale=0.1, x_scale=3e3), 1e-5, 0.05, FD_RANDOM),
    "dyadic-h0.25": (lambda: naive.kink_problem(5, 23, 150, seed=5, w_step=0.25, w_max=3), 0.25, 0.1, FD_EXACT),
    "dyadic-h0.5": (lambda: naive.kink_problem(5, 23, 150, seed=5, w_step=0.25, w_max=3), 0.5, 0.1, FD_EXACT),
    "dyadic-h1": (lambda: naive.kink_problem(5, 23, 150, seed=5, w_step=0.25, w_max=3), 1.0, 0.1, FD_EXACT),
    "dyadic-h0.5-9001": (lambda: naive.kink_problem(3, 6, 9001, seed=6, w_step=0.25, w_max=3), 0.5, 0.1, FD_EXACT),
    "integer-reg0": (lambda: naive.kink_problem(4, 6, 70, seed=3, w_step=1.0, w_max=1), 0.5, 0.0, FD_EXACT),
}


@functools.cache
def fd_case(name):
    build, h, reg, tol = FD_CASES[name]
    W, X, y = build()
    return W, X, y, h, reg, tol, naive.svm_fd(W, X, y, reg, 1.0, h), naive.softmax_fd(W, X, y, reg, h)


def check_fd(got, ref, tol, what):
    assert got.dtype == np.float64 and got.shape == ref.shape, what
    bound = tol["rtol"] * np.abs(ref) + tol["scale_tol"] * np.abs(ref).max() + tol["atol"]
    bad = np.abs(got - ref) > bound
    assert not bad.any(), (what, np.argwhere(bad)[:5].tolist(), got[bad][:5], ref[bad][:5])


@pytest.mark.parametrize("case", FD_CASES)
def test_finite_differences_equal_naive(backend, case):
    k = kernels(backend)
    W, X0, y, h, reg, tol, (ref_plus, ref_minus, ref_kinks), (ref_splus, ref_sminus) = fd_case(case)
    if tol is FD_EXACT:
        assert ref_kinks.sum() > 0  # the data puts terms on their kinks
    for order in ("C", "F"):
        X = as_order(X0, order)
        plus, minus, kinks = k.svm_fd(W, X, y, reg, 1.0, h, 2)
        check_fd(plus, ref_plus, tol, ("svm plus", order))
        check_fd(minus, ref_minus, tol, ("svm minus", order))
        assert kinks.dtype == np.int64 and kinks.shape == W.shape
        np.testing.assert_array_equal(kinks, ref_kinks, err_msg=order)
        plus, minus = k.softmax_fd(W, X, y, reg, h, 2)
        check_fd(plus, ref_splus, tol, ("softmax plus", order))
        check_fd(minus, ref_sminus, tol, ("softmax minus", order))


def test_centered_differences_agree_with_the_analytic_gradient(backend):
    k = kernels(backend)
    W, X, y = naive.make_problem(10, 60, 500, seed=9, scale=1e-3)
    h = 1e-5
    _, dW = k.softmax_loss_grad(W, X, y, None, 0.1, True, 2)
    plus, minus = k.softmax_fd(W, X, y, 0.1, h, 2)
    centered = (plus - minus) / (2 * h)
    assert np.max(np.abs(centered - dW) / np.maximum(np.abs(centered) + np.abs(dW), 1e-300)) < 1e-6


# ============================================================================ (b) grids

# name: (C, B, scale of the scores, alphas, betas): several grid blocks of 1024 with a ragged last
# one, and betas in groups of four plus a rest
GRID_CASES = {
    "4x203": (4, 203, 1.0, np.linspace(-2, 2, 5), np.linspace(-1, 1, 3)),
    "10x2259": (10, 2259, 3.0, np.linspace(-1.5, 2.0, 7), np.linspace(-2.0, 2.0, 10)),
}


@functools.cache
def grid_case(name, with_s2):
    C, B, scale, alphas, betas = GRID_CASES[name]
    rng = np.random.default_rng(B)
    S0, S1, S2 = (rng.standard_normal((C, B)) * scale for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    if not with_s2:
        S2, betas = None, np.zeros(1)
    return (
        S0,
        S1,
        S2,
        y,
        alphas,
        betas,
        naive.svm_grid(S0, S1, S2, y, alphas, betas, 1.0),
        naive.softmax_grid(S0, S1, S2, y, alphas, betas),
    )


@pytest.mark.parametrize("with_s2", [True, False], ids=["plane", "line"])
@pytest.mark.parametrize("case", GRID_CASES)
def test_grids_equal_naive_point_by_point(backend, case, with_s2):
    k = kernels(backend)
    S0, S1, S2, y, alphas, betas, ref_svm, ref_soft = grid_case(case, with_s2)
    svm = k.svm_grid(S0, S1, S2, y, alphas, betas, 1.0, 2)
    soft = k.softmax_grid(S0, S1, S2, y, alphas, betas, 2)
    assert svm.dtype == soft.dtype == np.float64
    assert svm.shape == soft.shape == (len(alphas), len(betas))
    np.testing.assert_allclose(svm, ref_svm, rtol=1e-13, atol=0)
    np.testing.assert_allclose(soft, ref_soft, rtol=1e-13, atol=0)


def test_softmax_plane_where_its_product_form_underflows(backend):
    """Scores so large that at most points the classes peaking along alpha and along beta differ by
    hundreds: the plane's separable sums (notes/KERNELS.md) underflow there, and those points must
    be recomputed directly; the mild ones stay in product form. Both agree with the naive loss."""
    k = kernels(backend)
    C, B = 6, 300
    rng = np.random.default_rng(5)
    S0, S1, S2 = (rng.standard_normal((C, B)) * 60.0 for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    alphas, betas = np.linspace(-3.0, 3.0, 9), np.linspace(-3.0, 3.0, 7)
    out = k.softmax_grid(S0, S1, S2, y, alphas, betas, 2)
    np.testing.assert_allclose(out, naive.softmax_grid(S0, S1, S2, y, alphas, betas), rtol=1e-13, atol=0)
    mild = k.softmax_grid(S0 / 600.0, S1 / 600.0, S2 / 600.0, y, alphas, betas, 2)
    ref = naive.softmax_grid(S0 / 600.0, S1 / 600.0, S2 / 600.0, y, alphas, betas)
    np.testing.assert_allclose(mild, ref, rtol=1e-13, atol=0)


def test_softmax_plane_overflow_stays_non_finite(backend):
    """A beta whose scores overflow gives a non-finite loss (the callers report it), the others the
    naive loss."""
    k = kernels(backend)
    S0, S1, S2, y, alphas, _, _, _ = grid_case("4x203", True)
    betas = np.array([-1.0, 0.5, 1e308])
    out = k.softmax_grid(S0, S1, S2, y, alphas, betas, 2)
    assert not np.isfinite(out[:, 2]).any()
    np.testing.assert_allclose(out[:, :2], naive.softmax_grid(S0, S1, S2, y, alphas, betas[:2]), rtol=1e-13, atol=0)
