"""Tests specific to the Numba backend: its building blocks (the softmax series, ``exp_nonpos``,
``fold_sum``), bitwise identity across thread counts for its block sizes, its launch lock and
thread-count handling. Every kernel's agreement with the naive references is in test_contract.py."""

from __future__ import annotations

import threading

import numpy as np
import pytest

numba = pytest.importorskip("numba")
nk = pytest.importorskip("steepest._backends.numba.kernels")
from steepest._backends.numba import fd as _numba_fd
from steepest._backends.numba.kernels import BLOCK

from naive import make_problem

THREADS = sorted({1, 2, numba.config.NUMBA_NUM_THREADS})


def problem(C, D, N, dtype=np.float64, order="C", seed=0):
    return make_problem(C, D, N, dtype, seed=seed, order=order, scale=0.1)


# ----------------------------------------------------------------------------- scores
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_minibatch_scores_are_bitwise_the_full_pass_columns(dtype, order):
    """``rows_scores`` gives every score the same ``dot20`` slot arithmetic, wherever it sits."""
    W, X, y = problem(10, 300, 1037, dtype, order)
    idx = np.array([5, 5, 0, 1036, 7], dtype=np.int64)
    np.testing.assert_array_equal(nk.scores(W, X, idx, 2), nk.scores(W, X, None, 2)[:, idx])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_memory_order_never_changes_a_bit(dtype):
    """A C-ordered X is gathered into the rows that an F-ordered X is read as in place, and both go through
    the same kernels: scores, losses, gradients (a full pass, several blocks, and a mini-batch with
    repeats) and exact finite differences are bitwise the same in both orders."""
    W, XC, y = problem(10, 300, 1200, dtype, "C")
    XF = np.asfortranarray(XC)
    idx = np.array([5, 5, 0, 1199, 7, 64, 3], dtype=np.int64)
    np.testing.assert_array_equal(nk.scores(W, XC, None, 2), nk.scores(W, XF, None, 2))
    for kernel in (nk.svm_loss_grad, nk.softmax_loss_grad):
        extra = (1.0,) if kernel is nk.svm_loss_grad else ()
        for sel in (None, idx):
            lc, gc = kernel(W, XC, y, sel, 1e-3, *extra, True, 2)
            lf, gf = kernel(W, XF, y, sel, 1e-3, *extra, True, 2)
            assert lc == lf
            np.testing.assert_array_equal(gc, gf)
    np.testing.assert_array_equal(
        nk.svm_fd(W, XC, y, 1e-3, 1.0, 1e-5, 2)[0], nk.svm_fd(W, XF, y, 1e-3, 1.0, 1e-5, 2)[0]
    )
    np.testing.assert_array_equal(nk.softmax_fd(W, XC, y, 1e-3, 1e-5, 2)[0], nk.softmax_fd(W, XF, y, 1e-3, 1e-5, 2)[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("C", [3, 10])
@pytest.mark.parametrize("long_pass", [False, True])
def test_stacked_models_are_bitwise_the_single_ones(dtype, C, long_pass, monkeypatch):
    """The grid's K models in one call: each model's loss and gradient are bitwise its own single-model pass,
    for a full pass over several blocks and for a mini-batch with repeats. A mini-batch runs model by model
    in parallel; a pass too long for one launch (``long_pass``: forced by a tiny launch) runs all K models
    through one pass over the blocks. An odd C checks that no class pair of the scores straddles two models."""
    if long_pass:
        monkeypatch.setattr(nk, "LAUNCH_WORK", 1000)
    K = 4
    _, X, y = problem(C, 200, 1100, dtype, "F")
    W = (np.random.default_rng(1).standard_normal((K, C, 200)) * 0.1).astype(dtype)
    regs = np.array([0.0, 1e-3, 0.5, 2.0])
    for sel in (None, np.array([3, 3, 0, 1099, 17, 512], dtype=np.int64)):
        for stacked, single, extra in (
            (nk.svm_stacked_loss_grad, nk.svm_loss_grad, (1.0,)),
            (nk.softmax_stacked_loss_grad, nk.softmax_loss_grad, ()),
        ):
            losses, dW = stacked(W, X, y, sel, regs, *extra, 2)
            assert dW.dtype == dtype
            for m in range(K):
                loss, grad = single(np.ascontiguousarray(W[m]), X, y, sel, regs[m], *extra, True, 2)
                assert losses[m] == loss
                np.testing.assert_array_equal(dW[m], grad)


# ----------------------------------------------------------------------------- finite differences
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
    x = np.concatenate(
        [
            -np.abs(rng.standard_normal(997)) * 30,
            -rng.random(300) * 800,
            [0.0, -0.0, -1e-300, -708.0, -707.9, -745.2, -800.0, -np.inf, np.nan],
        ]
    )
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
        expect[:n] = expect[:n] + expect[n : 2 * n]
    assert nt.fold_sum(L.copy()) == expect[0]


@pytest.mark.parametrize("with_s2", [True, False])
def test_grids_several_blocks_and_beta_groups_bitwise_across_thread_counts(with_s2):
    """B over several grid blocks with a partial sub-block, betas in groups of four plus a rest, the
    alphas split between tasks: bitwise equal for every thread count (the values: test_contract)."""
    rng = np.random.default_rng(9)
    C, B = 10, 2 * 1024 + 301
    S0, S1, S2 = (rng.standard_normal((C, B)) * 2 for _ in range(3))
    y = rng.integers(0, C, B).astype(np.int64)
    alphas = np.linspace(-1.5, 1.5, 3)
    betas = np.linspace(-1, 1, 6) if with_s2 else np.zeros(1)
    s2 = S2 if with_s2 else None
    svm = nk.svm_grid(S0, S1, s2, y, alphas, betas, 1.0, 1)
    soft = nk.softmax_grid(S0, S1, s2, y, alphas, betas, 1)
    for n in THREADS:
        np.testing.assert_array_equal(nk.svm_grid(S0, S1, s2, y, alphas, betas, 1.0, n), svm)
        np.testing.assert_array_equal(nk.softmax_grid(S0, S1, s2, y, alphas, betas, n), soft)


def test_softmax_grid_propagates_nan():
    rng = np.random.default_rng(1)
    S0, S1 = rng.standard_normal((3, 40)), rng.standard_normal((3, 40))
    S0[1, 7] = np.nan
    y = rng.integers(0, 3, 40).astype(np.int64)
    out = nk.softmax_grid(S0, S1, None, y, np.array([0.0, 1.0]), np.zeros(1), 1)
    assert np.all(np.isnan(out))


def test_small_calls_run_on_the_calling_thread_alone():
    """Waking workers for a small pass costs more than the pass (and spin-waits on busy cores): a call
    gets no more threads than its work keeps busy; results do not depend on it (blocks are fixed)."""
    assert nk._units(blocks=3, work=65 * 10 * 1297 * 2) == 1  # a digits-sized loss+grad
    assert nk._units(blocks=7, work=200 * 3073 * 10 * 2) == 3  # a CIFAR mini-batch of 200
    assert nk._units(blocks=98, work=50_000 * 3073 * 10 * 2) == 98  # a full CIFAR pass
    X = np.asfortranarray(np.random.default_rng(0).standard_normal((30, 5000)))
    nk.scores(np.ones((12, 30)), X, None, 2)  # a parallel launch starts the layer
    assert nk.threading_layer() in ("omp", "tbb", "workqueue")
