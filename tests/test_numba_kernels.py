"""Kernel-level tests of the Numba backend against plain float64 NumPy versions of the
formulas in notes/KERNELS.md (written out below, loops where that is clearer)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

numba = pytest.importorskip("numba")
nk = pytest.importorskip("steepest._backends.numba.kernels")
from steepest._backends.numba import fd as _numba_fd  # noqa: E402
from conftest import ref_kinks  # noqa: E402
from steepest._backends.numba.kernels import BLOCK  # noqa: E402

THREADS = sorted({1, 2, numba.config.NUMBA_NUM_THREADS})


# ----------------------------------------------------------------------------- references
def ref_svm(W, X, y, reg, delta=1.0):
    W = W.astype(np.float64)
    X = X.astype(np.float64)
    S = W @ X
    B = X.shape[1]
    cols = np.arange(B)
    M = S - S[y, cols] + delta
    M[y, cols] = 0.0
    pos = M > 0
    coef = pos.astype(np.float64)
    coef[y, cols] = -pos.sum(axis=0)
    return np.maximum(M, 0).sum() / B + reg * np.sum(W * W), coef @ X.T / B + 2 * reg * W


def ref_softmax(W, X, y, reg):
    W = W.astype(np.float64)
    X = X.astype(np.float64)
    S = W @ X
    B = X.shape[1]
    cols = np.arange(B)
    smax = S.max(axis=0)
    lse = smax + np.log(np.exp(S - smax).sum(axis=0))
    P = np.exp(S - lse)
    P[y, cols] -= 1.0
    return np.mean(lse - S[y, cols]) + reg * np.sum(W * W), P @ X.T / B + 2 * reg * W





def brute_fd(loss, W, X, y, h):
    """``L(W + h E_cd) - L(W)`` and ``L(W - h E_cd) - L(W)`` by re-evaluating the loss."""
    L0 = loss(W, X, y)
    plus, minus = np.empty_like(W), np.empty_like(W)
    for c in range(W.shape[0]):
        for d in range(W.shape[1]):
            Wp = W.copy()
            Wp[c, d] += h
            plus[c, d] = loss(Wp, X, y) - L0
            Wp[c, d] = W[c, d] - h
            minus[c, d] = loss(Wp, X, y) - L0
    return plus, minus


def problem(C, D, N, dtype=np.float64, order="C", seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = np.asarray(rng.standard_normal((D, N)) * scale, dtype=dtype, order=order)
    W = np.asarray(rng.standard_normal((C, D)) * 0.1, dtype=dtype)
    y = rng.integers(0, C, N).astype(np.int64)
    return W, X, y


def assert_close(a, b, rtol, atol=0.0):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- losses
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("C", [2, 3, 10])
@pytest.mark.parametrize("D", [1, 7, 300])
@pytest.mark.parametrize("N", [1, 2, 1000, 1037])
def test_loss_grad_match_reference(dtype, order, C, D, N):
    W, X, y = problem(C, D, N, dtype, order, seed=C * 1000 + D + N)
    rng = np.random.default_rng(N)
    idx = rng.integers(0, N, max(1, N // 3) + 2).astype(np.int64)  # repeats allowed
    f64 = dtype == np.float64
    lrt, grt = (1e-12, 1e-10) if f64 else (1e-5, 1e-5)
    for sub in (None, idx):
        Xs = X if sub is None else X[:, sub]
        ys = y if sub is None else y[sub]
        for name, ref in (("svm", ref_svm), ("softmax", ref_softmax)):
            if name == "svm":
                loss, dW = nk.svm_loss_grad(W, X, y, sub, 0.3, 1.0, True, 2)
                loss_only, none = nk.svm_loss_grad(W, X, y, sub, 0.3, 1.0, False, 2)
                rl, rg = ref(W, Xs, ys, 0.3, 1.0)
            else:
                loss, dW = nk.softmax_loss_grad(W, X, y, sub, 0.3, True, 2)
                loss_only, none = nk.softmax_loss_grad(W, X, y, sub, 0.3, False, 2)
                rl, rg = ref(W, Xs, ys, 0.3)
            assert type(loss) is float and none is None
            assert loss_only == loss
            assert dW.dtype == dtype and dW.shape == W.shape and dW.flags.c_contiguous
            assert_close(loss, rl, lrt)
            assert_close(dW, rg, 0.0, grt * max(1.0, np.abs(rg).max()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_scores(dtype, order):
    W, X, y = problem(10, 300, 1037, dtype, order)
    idx = np.array([5, 5, 0, 1036, 7], dtype=np.int64)
    ref = W.astype(np.float64) @ X.astype(np.float64)
    S = nk.scores(W, X, None, 2)
    assert S.dtype == dtype and S.shape == (10, 1037)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert_close(S, ref.astype(dtype), tol, tol)
    np.testing.assert_array_equal(nk.scores(W, X, idx, 2), S[:, idx])


def test_svm_margin_ties_and_gradient_at_kink():
    # integer data: margins exactly 0 (not counted as positive), and tied scores
    X = np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 1.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 2], dtype=np.int64)
    for delta in (1.0, 2.0):
        loss, dW = nk.svm_loss_grad(W, X, y, None, 0.0, delta, True, 1)
        rl, rg = ref_svm(W, X, y, 0.0, delta)
        assert loss == pytest.approx(rl, rel=1e-15)
        np.testing.assert_allclose(dW, rg, atol=1e-15)


def test_softmax_extreme_scores_finite():
    W, X, y = problem(3, 4, 50)
    loss, dW = nk.softmax_loss_grad(W * 1e4, X, y, None, 0.0, True, 2)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    assert loss == pytest.approx(ref_softmax(W * 1e4, X, y, 0.0)[0], rel=1e-12)


# ----------------------------------------------------------------------------- finite differences
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("C,D,N", [(2, 3, 5), (3, 5, 13), (4, 6, 41)])
def test_svm_fd_matches_brute_force(order, C, D, N):
    W, X, y = problem(C, D, N, order=order, seed=N)
    h, reg = 1e-5, 0.1
    plus, minus, kinks = nk.svm_fd(W, X, y, reg, 1.0, h, 2)
    bp, bm = brute_fd(lambda W_, X_, y_: ref_svm(W_, X_, y_, reg)[0], W, X, y, h)
    assert_close(plus, bp, 1e-8, 1e-12)
    assert_close(minus, bm, 1e-8, 1e-12)
    np.testing.assert_array_equal(kinks, ref_kinks(W, X, y, 1.0, h))


@pytest.mark.parametrize("order", ["C", "F"])
def test_svm_fd_kinks_exact_on_integer_data(order):
    rng = np.random.default_rng(3)
    C, D, N = 4, 6, 70
    X = np.asarray(rng.integers(-2, 3, (D, N)).astype(np.float64), order=order)  # zeros included
    W = rng.integers(-1, 2, (C, D)).astype(np.float64)  # many tied scores, margins exactly 0
    y = rng.integers(0, C, N).astype(np.int64)
    h = 0.5
    plus, minus, kinks = nk.svm_fd(W, X, y, 0.0, 1.0, h, 2)
    ref = ref_kinks(W, X, y, 1.0, h)
    assert ref.sum() > 0
    np.testing.assert_array_equal(kinks, ref)
    bp, bm = brute_fd(lambda W_, X_, y_: ref_svm(W_, X_, y_, 0.0)[0], W, X, y, h)
    assert_close(plus, bp, 1e-12, 1e-14)  # exact binary data: no rounding anywhere
    assert_close(minus, bm, 1e-12, 1e-14)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("scale", [1.0, 3e3])  # 3e3: |e x| too large for the series (moment_terms 0): the library fallback
def test_softmax_fd_matches_brute_force(order, scale):
    W, X, y = problem(3, 5, 17, order=order, seed=7, scale=scale)
    h, reg = 1e-5, 0.05
    plus, minus = nk.softmax_fd(W, X, y, reg, h, 2)
    bp, bm = brute_fd(lambda W_, X_, y_: ref_softmax(W_, X_, y_, reg)[0], W, X, y, h)
    assert_close(plus, bp, 1e-8, 1e-12)
    assert_close(minus, bm, 1e-8, 1e-12)


def test_softmax_taylor_coefficients():
    """The degree-7 series equals log1p(p expm1(z)) - [own] z to double precision."""
    rng = np.random.default_rng(0)
    S = rng.standard_normal((4, 1)) * np.array([[1.0], [5.0], [30.0], [0.1]])
    cf = np.empty((4, 8))
    for yi in range(4):
        p = _numba_fd._softmax_coefs(S, 0, yi, cf)
        for c in range(4):
            for z in (1e-2, -1e-2, 3e-3, -1e-6, 1e-9):
                k = cf[c, :7]
                series = sum(k[n] * z ** (n + 1) for n in range(6, -1, -1))
                if c == yi:  # log1p(p expm1(z)) - z == log1p(q expm1(-z)): no cancellation
                    exact = np.log1p(np.delete(p, c).sum() * np.expm1(-z))
                else:
                    exact = np.log1p(p[c] * np.expm1(z))
                assert series == pytest.approx(exact, rel=1e-14, abs=1e-300)


# ----------------------------------------------------------------------------- grids
@pytest.mark.parametrize("with_s2", [True, False])
def test_grids_match_per_point(with_s2):
    rng = np.random.default_rng(5)
    C, B = 4, 203
    S0, S1, S2 = (rng.standard_normal((C, B)) for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    alphas = np.linspace(-2, 2, 5)
    betas = np.linspace(-1, 1, 3) if with_s2 else np.zeros(1)
    eye = np.eye(C)  # W = I and X = S reproduce the reference losses from scores
    svm = nk.svm_grid(S0, S1, S2 if with_s2 else None, y, alphas, betas, 1.0, 2)
    soft = nk.softmax_grid(S0, S1, S2 if with_s2 else None, y, alphas, betas, 2)
    assert svm.shape == soft.shape == (5, len(betas))
    for a, al in enumerate(alphas):
        for b, be in enumerate(betas):
            S = S0 + al * S1 + (be * S2 if with_s2 else 0.0)
            assert svm[a, b] == pytest.approx(ref_svm(eye, S, y, 0.0)[0], rel=1e-13)
            assert soft[a, b] == pytest.approx(ref_softmax(eye, S, y, 0.0)[0], rel=1e-13)


# ----------------------------------------------------------------------------- determinism
def _all_results(W, X, y, idx, n):
    Wd, Xd = W.astype(np.float64), np.asarray(X, dtype=np.float64)
    S0 = Wd @ Xd
    out = [
        nk.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, n),
        nk.softmax_loss_grad(W, X, y, idx, 0.1, True, n),
        nk.scores(W, X, idx, n),
        nk.svm_grid(S0, S0 * 0.5, S0 * 0.25, y, np.linspace(-1, 1, 7), np.linspace(0, 1, 3), 1.0, n),
        nk.softmax_grid(S0, S0 * 0.5, None, y, np.linspace(-1, 1, 7), np.zeros(1), n),
    ]
    if W.dtype == np.float64:
        out += [nk.svm_fd(W, X, y, 0.1, 1.0, 1e-5, n), nk.softmax_fd(W, X, y, 0.1, 1e-5, n)]
    return out


def _flatten(results):
    flat = []
    for r in results:
        for v in r if isinstance(r, tuple) else (r,):
            flat.append(np.asarray(v))
    return flat


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_bitwise_identical_across_thread_counts(dtype, order):
    N = 2 * BLOCK + 13  # not a multiple of any block size; FD_BLOCK = 1024 gives 2 blocks too
    assert N % BLOCK and N % _numba_fd.FD_BLOCK
    W, X, y = problem(10, 37, N, dtype, order, seed=11)
    idx = np.random.default_rng(1).integers(0, N, 777).astype(np.int64)
    base = _flatten(_all_results(W, X, y, idx, 1))
    for n in THREADS[1:] + [1]:
        for a, b in zip(base, _flatten(_all_results(W, X, y, idx, n))):
            np.testing.assert_array_equal(a, b)


def test_concurrent_python_threads_match_serial():
    W, X, y = problem(10, 50, 1100, seed=2)
    serial = nk.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
    results, errors = [None] * 8, []

    def work(k):
        try:
            results[k] = nk.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 1 + k % 2)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and all(not t.is_alive() for t in threads)
    for loss, dW in results:
        assert loss == serial[0]
        np.testing.assert_array_equal(dW, serial[1])


def test_thread_count_restored_and_clamped():
    before = numba.get_num_threads()
    W, X, y = problem(3, 4, 20)
    nk.svm_loss_grad(W, X, y, None, 0.0, 1.0, True, 10_000)  # clamped, not an error
    assert numba.get_num_threads() == before


def test_inputs_not_modified_and_read_only_accepted():
    W, X, y = problem(3, 8, 40, order="F")
    for a in (W, X, y):
        a.setflags(write=False)
    copies = [a.copy() for a in (W, X, y)]
    nk.svm_loss_grad(W, X, y, None, 0.1, 1.0, True, 2)
    nk.softmax_fd(W, X, y, 0.1, 1e-5, 2)
    nk.svm_fd(W, X, y, 0.1, 1.0, 1e-5, 2)
    for a, c in zip((W, X, y), copies):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------- grid building blocks
def test_exp_nonpos_matches_numpy():
    from steepest._backends.numba import tiles as nt

    rng = np.random.default_rng(4)
    x = np.concatenate([-np.abs(rng.standard_normal(997)) * 30, -rng.random(300) * 800,
                        [0.0, -0.0, -1e-300, -708.0, -707.9, -745.2, -800.0, -np.inf, np.nan]])
    out, kb = np.empty_like(x), np.empty_like(x)
    nt.exp_nonpos(x, x.shape[0], out, kb)
    ref = np.exp(x)
    big = ref >= np.exp(-707.9)
    np.testing.assert_allclose(out[big], ref[big], rtol=4e-16, atol=0)
    assert np.all(out[~big & ~np.isnan(x)] <= np.exp(-707.9))  # tiny results: 0 or exact
    assert np.isnan(out[-1]) and out[-2] == 0.0 and out[-3] == 0.0


def test_fold_sum_is_a_fixed_order_sum():
    from steepest._backends.numba import tiles as nt

    L = np.random.default_rng(0).standard_normal(128)
    expect = L.copy()
    n = 128
    while n > 1:
        n //= 2
        expect[:n] = expect[:n] + expect[n:2 * n]
    assert nt.fold_sum(L.copy()) == expect[0]


@pytest.mark.parametrize("with_s2", [True, False])
def test_grids_several_blocks_and_beta_groups(with_s2):
    """B over several grid blocks with a partial sub-block; betas in groups of four plus a rest;
    bitwise equal across thread counts."""
    rng = np.random.default_rng(9)
    C, B = 10, 2 * 1024 + 301
    S0, S1, S2 = (rng.standard_normal((C, B)) * 2 for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    alphas = np.linspace(-1.5, 1.5, 3)
    betas = np.linspace(-1, 1, 6) if with_s2 else np.zeros(1)
    s2 = S2 if with_s2 else None
    eye = np.eye(C)
    svm = nk.svm_grid(S0, S1, s2, y, alphas, betas, 1.0, 1)
    soft = nk.softmax_grid(S0, S1, s2, y, alphas, betas, 1)
    for n in THREADS:
        np.testing.assert_array_equal(nk.svm_grid(S0, S1, s2, y, alphas, betas, 1.0, n), svm)
        np.testing.assert_array_equal(nk.softmax_grid(S0, S1, s2, y, alphas, betas, n), soft)
    for a, al in enumerate(alphas):
        for b, be in enumerate(betas):
            S = S0 + al * S1 + (be * S2 if with_s2 else 0.0)
            assert svm[a, b] == pytest.approx(ref_svm(eye, S, y, 0.0)[0], rel=1e-13)
            assert soft[a, b] == pytest.approx(ref_softmax(eye, S, y, 0.0)[0], rel=1e-13)


def test_softmax_grid_propagates_nan():
    rng = np.random.default_rng(1)
    S0, S1 = rng.standard_normal((3, 40)), rng.standard_normal((3, 40))
    S0[1, 7] = np.nan
    y = rng.integers(0, 3, 40).astype(np.int64)
    out = nk.softmax_grid(S0, S1, None, y, np.array([0.0, 1.0]), np.zeros(1), 1)
    assert np.all(np.isnan(out))
