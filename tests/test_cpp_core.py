"""Tests specific to the compiled core ``steepest._core`` (the cross-backend tests live elsewhere).

Every kernel is compared with a plain NumPy float64 evaluation of the notes/KERNELS.md formulas
written below; every SIMD path the CPU has is run in a subprocess (``STEEPEST_SIMD``); results
must be bitwise identical for any thread count; the bindings refuse bad buffers; Ctrl-C stops a
long call quickly and leaves the module usable; concurrent Python threads get the serial results.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

core = pytest.importorskip("steepest._core", reason="the compiled extension steepest._core is not built")
from conftest import ref_kinks  # noqa: E402
kernels = core

# ---------------------------------------------------------------------------------------------
# NumPy references (float64, the KERNELS.md formulas literally)


def _cols(X, idx):
    X = np.asarray(X, dtype=np.float64)
    return X if idx is None else X[:, idx]


def ref_scores(W, X, idx=None):
    return np.asarray(W, np.float64) @ _cols(X, idx)


def ref_svm(W, X, y, idx, reg, delta):
    W = np.asarray(W, np.float64)
    Xs = _cols(X, idx)
    ys = y if idx is None else y[idx]
    B = Xs.shape[1]
    cols = np.arange(B)
    S = W @ Xs
    m = S - S[ys, cols] + delta
    m[ys, cols] = 0.0
    loss = np.maximum(0.0, m).sum() / B + reg * np.sum(W * W)
    coef = (m > 0).astype(np.float64)
    coef[ys, cols] = -coef.sum(axis=0)
    return loss, coef @ Xs.T / B + 2 * reg * W


def ref_softmax(W, X, y, idx, reg):
    W = np.asarray(W, np.float64)
    Xs = _cols(X, idx)
    ys = y if idx is None else y[idx]
    B = Xs.shape[1]
    cols = np.arange(B)
    S = W @ Xs
    mx = S.max(axis=0)
    E = np.exp(S - mx)
    Z = E.sum(axis=0)
    loss = np.sum(mx + np.log(Z) - S[ys, cols]) / B + reg * np.sum(W * W)
    P = E / Z
    P[ys, cols] -= 1.0
    return loss, P @ Xs.T / B + 2 * reg * W


def _svm_example_losses(W, X, y, delta):
    S = W @ X
    cols = np.arange(X.shape[1])
    m = S - S[y, cols] + delta
    m[y, cols] = 0
    return np.maximum(0, m).sum(axis=0)


def _softmax_example_losses(W, X, y):
    S = W @ X
    mx = S.max(axis=0)
    return mx + np.log(np.exp(S - mx).sum(axis=0)) - S[y, np.arange(X.shape[1])]


def ref_fd(example_losses, W, X, y, reg, h, weights):
    """Brute force L(W + e E_cd) - L(W), as per-example differences in extended precision."""
    WL, XL = W.astype(np.longdouble), X.astype(np.longdouble)
    base = example_losses(WL, XL, y)
    out = {}
    for c, d in weights:
        w = W[c, d]
        e_plus, e_minus = (w + h) - w, w - (w - h)
        for sign, e in ((+1, e_plus), (-1, -e_minus)):
            W2 = WL.copy()
            W2[c, d] = np.longdouble(w) + np.longdouble(e)
            data = np.sum(example_losses(W2, XL, y) - base) / X.shape[1]
            out[c, d, sign] = float(data + reg * (np.longdouble(e) * (2 * np.longdouble(w) + np.longdouble(e))))
    return out





def ref_grid(loss, S0, S1, S2, y, alphas, betas):
    out = np.empty((len(alphas), len(betas)))
    for a, alpha in enumerate(alphas):
        for b, beta in enumerate(betas):
            S = S0 + alpha * S1 + (0.0 if S2 is None else beta * S2)
            out[a, b] = loss(S)
    return out


def svm_data_loss(y, delta):
    def loss(S):
        cols = np.arange(S.shape[1])
        m = S - S[y, cols] + delta
        m[y, cols] = 0
        return np.maximum(0, m).sum() / S.shape[1]

    return loss


def softmax_data_loss(y):
    def loss(S):
        mx = S.max(axis=0)
        return np.mean(mx + np.log(np.exp(S - mx).sum(axis=0)) - S[y, np.arange(S.shape[1])])

    return loss


# ---------------------------------------------------------------------------------------------
# problems


def problem(C=10, D=37, N=203, dtype=np.float64, order="C", seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((C, D)) * scale).astype(dtype)
    X = rng.standard_normal((D, N)).astype(dtype)
    if order == "F":
        X = np.asfortranarray(X)
    y = rng.integers(0, C, N).astype(np.int64)
    return W, X, y


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def assert_grad_close(got, ref, tol):
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(np.abs(ref).max(), 1e-300))


TOL = {np.float64: (1e-12, 1e-10), np.float32: (1e-5, 1e-5)}
SHAPES = [(10, 37, 203), (3, 1, 17), (2, 64, 1), (7, 33, 16 * 5 + 3)]


# ---------------------------------------------------------------------------------------------
# agreement with the references (run again under every SIMD path by test_every_simd_path)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_reference_losses(dtype, order, shape):
    C, D, N = shape
    W, X, y = problem(C, D, N, dtype, order)
    loss_tol, grad_tol = TOL[dtype]
    rng = np.random.default_rng(1)
    edge = np.arange(min(N, 40), dtype=np.int64)
    edge[min(N, 40) // 3] = N - 1  # first and last of a tile differ by nk - 1, yet not consecutive
    for idx in (None, rng.integers(0, N, 2 * N + 5).astype(np.int64), edge):
        S = core.scores(W, X, idx, 2)
        assert S.dtype == dtype and S.flags.c_contiguous
        assert_grad_close(S.astype(np.float64), ref_scores(W, X, idx), grad_tol)
        loss, dW = core.svm_loss_grad(W, X, y, idx, 0.05, 1.0, True, 2)
        ref_loss, ref_dW = ref_svm(W, X, y, idx, 0.05, 1.0)
        assert isinstance(loss, float) and rel(loss, ref_loss) <= loss_tol
        assert dW.dtype == dtype and dW.shape == (C, D) and dW.flags.c_contiguous
        assert_grad_close(dW.astype(np.float64), ref_dW, grad_tol)
        loss2, none = core.svm_loss_grad(W, X, y, idx, 0.05, 1.0, False, 2)
        assert none is None and loss2 == loss
        loss, dW = core.softmax_loss_grad(W, X, y, idx, 0.05, True, 2)
        ref_loss, ref_dW = ref_softmax(W, X, y, idx, 0.05)
        assert rel(loss, ref_loss) <= loss_tol
        assert_grad_close(dW.astype(np.float64), ref_dW, grad_tol)


def test_reference_softmax_large_scores():
    """Log-sum-exp form: score gaps far beyond exp's range stay finite and exact."""
    W, X, y = problem(5, 20, 99, scale=300.0)
    loss, dW = core.softmax_loss_grad(W, X, y, None, 0.0, True, 2)
    ref_loss, ref_dW = ref_softmax(W, X, y, None, 0.0)
    assert np.isfinite(loss) and rel(loss, ref_loss) <= 1e-12
    assert_grad_close(dW, ref_dW, 1e-10)


def test_reference_overflow_is_not_hidden():
    W, X, y = problem(4, 8, 30)
    W[0, 0] = 1e308
    X[0, :] = 1e10
    loss, _ = core.svm_loss_grad(W, X, y, None, 0.0, 1.0, True, 1)
    assert not np.isfinite(loss)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("h", [1e-5, 1e-3, 0.05, 0.4])
def test_reference_fd(order, h):
    W, X, y = problem(4, 50, 61, order=order, seed=3)
    reg, delta = 0.2, 1.0
    weights = [(c, d) for c in range(4) for d in range(50)]  # all 200 weights, both directions
    plus, minus, kinks = core.svm_fd(W, X, y, reg, delta, h, 2)
    assert plus.dtype == minus.dtype == np.float64 and kinks.dtype == np.int64 and kinks.shape == W.shape
    ref = ref_fd(lambda W_, X_, y_: _svm_example_losses(W_, X_, y_, delta), W, X, y, reg, h, weights)
    splus, sminus = core.softmax_fd(W, X, y, reg, h, 2)
    sref = ref_fd(_softmax_example_losses, W, X, y, reg, h, weights)
    scale = max(abs(v) for v in ref.values())
    sscale = max(abs(v) for v in sref.values())
    for (c, d, sign), value in ref.items():
        got = plus[c, d] if sign > 0 else minus[c, d]
        assert abs(got - value) <= 1e-8 * abs(value) + 1e-13 * scale, (c, d, sign, got, value)
        sgot = splus[c, d] if sign > 0 else sminus[c, d]
        svalue = sref[c, d, sign]
        assert abs(sgot - svalue) <= 1e-8 * abs(svalue) + 1e-13 * sscale, (c, d, sign, sgot, svalue)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("h", [0.25, 0.5, 1.0])
def test_reference_fd_kinks_exact(order, h):
    """Dyadic data: scores and margins are exact, many terms sit on or near their kinks."""
    rng = np.random.default_rng(5)
    C, D, N = 5, 23, 150
    W = rng.integers(-3, 4, (C, D)) / 4.0
    X = rng.integers(-2, 3, (D, N)).astype(np.float64)
    if order == "F":
        X = np.asfortranarray(X)
    y = rng.integers(0, C, N).astype(np.int64)
    plus, minus, kinks = core.svm_fd(W, X, y, 0.1, 1.0, h, 2)
    ref_k = ref_kinks(W, np.ascontiguousarray(X), y, 1.0, h)
    assert ref_k.sum() > 0
    np.testing.assert_array_equal(kinks, ref_k)
    ref = ref_fd(lambda W_, X_, y_: _svm_example_losses(W_, X_, y_, 1.0), W, X, y, 0.1, h, [(c, d) for c in range(C) for d in range(D)])
    for (c, d, sign), value in ref.items():
        got = plus[c, d] if sign > 0 else minus[c, d]
        assert abs(got - value) <= 1e-12 * abs(value) + 1e-15, (c, d, sign, got, value)


def test_reference_fd_against_analytic_gradient():
    W, X, y = problem(10, 60, 500, seed=9, scale=1e-3)
    h = 1e-5
    _, dW = core.softmax_loss_grad(W, X, y, None, 0.1, True, 2)
    plus, minus = core.softmax_fd(W, X, y, 0.1, h, 2)
    centered = (plus - minus) / (2 * h)
    assert np.max(np.abs(centered - dW) / np.maximum(np.abs(centered) + np.abs(dW), 1e-300)) < 1e-6


@pytest.mark.parametrize("with_s2", [True, False])
def test_reference_grids(with_s2):
    rng = np.random.default_rng(7)
    C, B = 10, 1234 + 1025  # several example blocks, a ragged last one
    S0, S1, S2 = (rng.standard_normal((C, B)) * 3 for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    alphas = np.linspace(-1.5, 2.0, 7)
    betas = np.linspace(-2.0, 2.0, 9) if with_s2 else np.zeros(1)
    S2_ = S2 if with_s2 else None
    out = core.svm_grid(S0, S1, S2_, y, alphas, betas, 1.0, 2)
    ref = ref_grid(svm_data_loss(y, 1.0), S0, S1, S2_, y, alphas, betas)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    out = core.softmax_grid(S0, S1, S2_, y, alphas, betas, 2)
    ref = ref_grid(softmax_data_loss(y), S0, S1, S2_, y, alphas, betas)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_reference_simd_path_as_requested():
    want = os.environ.get("STEEPEST_EXPECT_SIMD")
    path = kernels.simd_path()
    assert path in core.supported_simd_paths()
    if want:
        assert path == want


def test_reference_multiply_add_rate():
    # the compute floor of `steepest bench`: a plausible rate on every SIMD path (runs per path)
    one = core.multiply_add_rate(1, 0.02)
    assert 1e8 < one < 1e12
    assert 1e8 < core.multiply_add_rate(3, 0.02) < 1e13
    with pytest.raises(ValueError, match="n_threads"):
        core.multiply_add_rate(0)
    with pytest.raises(ValueError, match="seconds"):
        core.multiply_add_rate(1, 0.0)


# ---------------------------------------------------------------------------------------------
# dispatch


def test_cpu_features_and_path():
    features = kernels.cpu_features()
    assert isinstance(features, dict) and all(isinstance(v, bool) for v in features.values())
    assert {"sse2", "avx2", "fma", "avx512f"} <= set(features)
    paths = core.supported_simd_paths()
    assert paths[0] == "baseline"
    assert ("avx2" in paths) == (features["avx2"] and features["fma"])
    if "STEEPEST_SIMD" not in os.environ:
        assert kernels.simd_path() == paths[-1]


def _run_with_simd(path, extra_args=(), env_extra=None):
    env = dict(os.environ, STEEPEST_SIMD=path, STEEPEST_EXPECT_SIMD=path)
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider", *extra_args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("path", ["baseline", "avx2", "avx512"])
def test_every_simd_path(path):
    if path not in core.supported_simd_paths():
        pytest.skip(f"this CPU has no {path}")
    result = _run_with_simd(path, ["-k", "reference or bitwise"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_simd_request_above_cpu_falls_back_and_typo_fails():
    code = "import steepest._core as c; print(c.simd_path())"
    env = dict(os.environ, STEEPEST_SIMD="avx512")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() in core.supported_simd_paths()
    env["STEEPEST_SIMD"] = "avx9000"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "STEEPEST_SIMD" in out.stderr


# ---------------------------------------------------------------------------------------------
# determinism


def _bits(x):
    return np.asarray(x).tobytes() if isinstance(x, np.ndarray) else float(x).hex()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_bitwise_thread_counts(dtype, order):
    N = 16 * 64 * 5 + 7  # not a multiple of the tile size: ragged tiles and chunks
    W, X, y = problem(10, 45, N, dtype, order, seed=11)
    idx = np.random.default_rng(2).integers(0, N, 3001).astype(np.int64)
    calls = [
        lambda n: core.scores(W, X, None, n),
        lambda n: core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, n),
        lambda n: core.svm_loss_grad(W, X, y, idx, 0.1, 1.0, True, n),
        lambda n: core.softmax_loss_grad(W, X, y, None, 0.1, True, n),
        lambda n: core.softmax_loss_grad(W, X, y, idx, 0.1, True, n),
    ]
    if dtype == np.float64:
        calls += [
            lambda n: core.svm_fd(W, X, y, 0.1, 1.0, 0.05, n),
            lambda n: core.softmax_fd(W, X, y, 0.1, 1e-4, n),
        ]
    for call in calls:
        first = call(1)
        first = first if isinstance(first, tuple) else (first,)
        expected = [_bits(p) for p in first if p is not None]
        for n in (1, 2, 3, 8):
            for _ in range(20 if n == 2 else 3):
                got = call(n)
                got = got if isinstance(got, tuple) else (got,)
                assert [_bits(p) for p in got if p is not None] == expected


def test_bitwise_grids_thread_counts():
    rng = np.random.default_rng(3)
    C, B = 10, 5 * 1024 + 77
    S0, S1, S2 = (rng.standard_normal((C, B)) for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    a = np.linspace(-1, 1, 11)
    first_svm = core.svm_grid(S0, S1, S2, y, a, a, 1.0, 1).tobytes()
    first_soft = core.softmax_grid(S0, S1, S2, y, a, a, 1).tobytes()
    for n in (2, 3, 8):
        for _ in range(5):
            assert core.svm_grid(S0, S1, S2, y, a, a, 1.0, n).tobytes() == first_svm
            assert core.softmax_grid(S0, S1, S2, y, a, a, n).tobytes() == first_soft


# ---------------------------------------------------------------------------------------------
# the bindings refuse bad buffers


def test_binding_refuses_bad_arrays():
    W, X, y = problem(4, 9, 30)
    bad_type = [
        (X.astype(np.int64), "X"),
        (X.astype(np.float16), "X"),
        (X.astype(np.float32), "X"),  # W float64, X float32: mismatched
        (X[:, ::2], "X"),  # strided view
        (X.astype(X.dtype.newbyteorder()), "X"),
    ]
    for bad, name in bad_type:
        with pytest.raises(TypeError, match=name):
            core.svm_loss_grad(W, bad, y[: bad.shape[1]], None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError):
        core.svm_loss_grad(W, X.tolist(), y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError):
        core.svm_loss_grad(None, X, y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="W"):
        core.svm_loss_grad(np.asfortranarray(W), X, y, None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="y"):
        core.svm_loss_grad(W, X, y.astype(np.int32), None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="y"):
        core.svm_loss_grad(W, X, y.astype(np.float64), None, 0.0, 1.0, True, 1)
    with pytest.raises(TypeError, match="idx"):
        core.scores(W, X, np.arange(3, dtype=np.int32), 1)
    with pytest.raises(TypeError, match="idx"):
        core.scores(W, X, [0, 1], 1)
    # misaligned float64 buffer
    raw = np.zeros(W.size * 8 + 1, dtype=np.uint8)
    mis = np.frombuffer(raw.data, dtype=np.float64, count=W.size, offset=1).reshape(W.shape)
    with pytest.raises(TypeError, match="aligned"):
        core.scores(mis, X, None, 1)
    # finite differences are float64 only
    with pytest.raises(TypeError, match="float64"):
        core.svm_fd(W.astype(np.float32), X.astype(np.float32), y, 0.0, 1.0, 1e-5, 1)


def test_binding_refuses_bad_shapes_and_values():
    W, X, y = problem(4, 9, 30)
    with pytest.raises(ValueError, match="X.T"):
        core.svm_loss_grad(W, np.ascontiguousarray(X.T), y, None, 0.0, 1.0, True, 1)
    with pytest.raises(ValueError, match="y"):
        core.svm_loss_grad(W, X, y[:-1], None, 0.0, 1.0, True, 1)
    with pytest.raises(ValueError, match="y"):
        core.softmax_loss_grad(W, X, np.where(y == 0, 4, y), None, 0.0, True, 1)
    with pytest.raises(ValueError, match="idx"):
        core.scores(W, X, np.array([0, 30], dtype=np.int64), 1)
    with pytest.raises(ValueError, match="W"):
        core.scores(W[0], X, None, 1)
    with pytest.raises(ValueError, match="n_threads"):
        core.scores(W, X, None, 0)
    S = W @ X
    with pytest.raises(ValueError, match="betas"):
        core.svm_grid(S, S, None, y, np.zeros(2), np.ones(1), 1.0, 1)
    with pytest.raises(ValueError, match="S1"):
        core.svm_grid(S, S[:, :-1].copy(), None, y, np.zeros(2), np.zeros(1), 1.0, 1)


def test_inputs_untouched_and_readonly_accepted():
    W, X, y = problem(4, 9, 30)
    for a in (W, X, y):
        a.setflags(write=False)
    before = [a.copy() for a in (W, X, y)]
    core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
    core.svm_fd(W, X, y, 0.1, 1.0, 1e-5, 2)
    for a, b in zip((W, X, y), before):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Ctrl-C and concurrency


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_ctrl_c_interrupts_long_call(n_threads):
    rng = np.random.default_rng(0)
    C, B = 10, 20000
    S0, S1, S2 = (rng.standard_normal((C, B)) for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    grid = np.linspace(-1, 1, 801)  # 641,601 points: many seconds of work
    fired = {}

    def interrupt():
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, interrupt)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            core.svm_grid(S0, S1, S2, y, grid, grid, 1.0, n_threads)
        stopped = time.perf_counter()
    finally:
        timer.cancel()
    assert "t" in fired, "the call finished before the signal; make it longer"
    assert stopped - fired["t"] < 0.25, f"took {stopped - fired['t']:.3f} s to stop"
    assert stopped - start < 5
    # the module is still usable and correct
    a = np.linspace(-1, 1, 3)
    out = core.svm_grid(S0, S1, S2, y, a, a, 1.0, n_threads)
    np.testing.assert_allclose(out, ref_grid(svm_data_loss(y, 1.0), S0, S1, S2, y, a, a), rtol=1e-12)


def test_ctrl_c_during_fd_sweep():
    W, X, y = problem(10, 3073, 40000, seed=4, order="F")
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        t0 = time.perf_counter()
        try:
            for _ in range(200):  # long enough that the signal lands inside a call
                core.softmax_fd(W, X, y, 0.0, 1e-5, 2)
        except KeyboardInterrupt:
            pass
        else:  # pragma: no cover
            pytest.fail("no KeyboardInterrupt")
        assert time.perf_counter() - t0 < 30
    finally:
        timer.cancel()
    W2, X2, y2 = problem(4, 12, 50)
    loss, _ = core.svm_loss_grad(W2, X2, y2, None, 0.0, 1.0, True, 2)
    assert rel(loss, ref_svm(W2, X2, y2, None, 0.0, 1.0)[0]) < 1e-12


def test_eight_python_threads_get_serial_results():
    W, X, y = problem(10, 200, 3001, seed=6, order="F")
    Xc = np.ascontiguousarray(X)
    jobs = [
        lambda: core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2),
        lambda: core.softmax_loss_grad(W, Xc, y, None, 0.1, True, 3),
        lambda: core.svm_fd(W, Xc, y, 0.1, 1.0, 1e-3, 2),
        lambda: core.scores(W, X, None, 1),
    ]
    serial = [[_bits(p) for p in (r if isinstance(r, tuple) else (r,)) if p is not None] for r in (j() for j in jobs)]

    def run(k):
        r = jobs[k % len(jobs)]()
        return k % len(jobs), [_bits(p) for p in (r if isinstance(r, tuple) else (r,)) if p is not None]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for k, bits in pool.map(run, range(64)):
            assert bits == serial[k]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_no_leak_on_normal_and_error_paths():
    W, X, y = problem(4, 16, 40, order="F")
    bad = X.astype(np.float32)

    def calls():
        core.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
        core.softmax_fd(W, X, y, 0.1, 1e-5, 1)
        with pytest.raises(TypeError):
            core.svm_loss_grad(W, bad, y, None, 0.1, 1.0, True, 2)
        with pytest.raises(ValueError):
            core.scores(W, X, np.array([99], dtype=np.int64), 1)

    for _ in range(500):  # warm up allocator pools and the thread pool
        calls()
    before = _rss_bytes()
    for _ in range(10_000):
        calls()
    assert _rss_bytes() - before < 1 << 20
