"""Every backend's losses and gradients against the reference, plus the properties every loss must have."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import steepest
from steepest import reference

from conftest import make_problem

LOSSES = {
    "svm": (steepest.svm_loss_grad, steepest.svm_loss, steepest.SVMLoss, reference.svm_loss_vectorized),
    "softmax": (
        steepest.softmax_loss_grad,
        steepest.softmax_loss,
        steepest.SoftmaxLoss,
        reference.softmax_loss_vectorized,
    ),
}
TOL = {np.dtype(np.float64): (1e-12, 1e-10), np.dtype(np.float32): (1e-5, 1e-5)}


def assert_matches_reference(kind, W, X, y, backend, reg=0.0, idx=None):
    func, _, cls, ref = LOSSES[kind]
    loss_tol, grad_tol = TOL[W.dtype]
    Xr, yr = (X, y) if idx is None else (X[:, idx], y[idx])
    rloss, rdW = ref(W, Xr, yr, reg)
    if idx is None:
        loss, dW = func(W, X, y, reg=reg, backend=backend)
    else:
        loss, dW = cls(X, y, reg=reg, backend=backend).subset(idx).loss_grad(W)
    assert isinstance(loss, float)
    assert dW.dtype == W.dtype and dW.shape == W.shape
    np.testing.assert_allclose(loss, rloss, rtol=loss_tol)
    np.testing.assert_allclose(dW, rdW, rtol=grad_tol, atol=grad_tol * max(1.0, np.abs(rdW).max()))


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("C", [2, 3, 10])
@pytest.mark.parametrize("D", [1, 7, 3073])
@pytest.mark.parametrize("N", [1, 2, 1000, 1037])
def test_grid_of_shapes_matches_reference(backend, dtype, kind, C, D, N):
    for order in ("C", "F"):
        W, X, y = make_problem(C, D, N, dtype, seed=C * 1000 + D + N, order=order, scale=0.1)
        assert_matches_reference(kind, W, X, y, backend, reg=0.5)


@pytest.mark.parametrize("kind", LOSSES)
def test_regularization_and_large_n(backend, dtype, kind):
    W, X, y = make_problem(10, 33, 5003, dtype, seed=3, scale=0.3)
    for reg in (0.0, 1e-3, 2.5e4):
        assert_matches_reference(kind, W, X, y, backend, reg=reg)


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_subset_gathers_minibatches(backend, dtype, kind, order):
    W, X, y = make_problem(5, 20, 700, dtype, seed=4, order=order)
    idx = np.random.default_rng(0).integers(0, 700, 333)  # with repeats, like the assignment's sampling
    assert_matches_reference(kind, W, X, y, backend, reg=0.1, idx=idx)
    edge = np.arange(16)
    edge[4] = 697  # indices near the end of X inside a tile
    assert_matches_reference(kind, W, X, y, backend, reg=0.1, idx=edge)
    np.testing.assert_allclose(
        LOSSES[kind][2](X, y, backend=backend).subset(edge).scores(W),
        (W.astype(np.float64) @ X.astype(np.float64))[:, edge],
        rtol=TOL[dtype][1],
        atol=TOL[dtype][1],
    )
    nested = LOSSES[kind][2](X, y, backend=backend).subset(idx).subset(np.arange(10))
    assert nested.n == 10
    np.testing.assert_array_equal(nested.labels, y[idx[:10]])


@pytest.mark.parametrize("kind", LOSSES)
def test_loss_object_is_the_notes_loss_fun(backend, kind):
    _, loss_only, cls, ref = LOSSES[kind]
    W, X, y = make_problem(10, 50, 400, seed=5, scale=0.01)
    f = cls(X, y, reg=0.2, backend=backend)
    rloss = ref(W, X, y, 0.2)[0]
    assert f(W) == pytest.approx(rloss, rel=1e-12)
    assert loss_only(W, X, y, reg=0.2, backend=backend) == pytest.approx(rloss, rel=1e-12)
    np.testing.assert_allclose(f.grad(W), ref(W, X, y, 0.2)[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f.scores(W), W @ X, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(f.predict(W), np.argmax(W @ X, axis=0))
    assert f.accuracy(W) == pytest.approx(np.mean(np.argmax(W @ X, axis=0) == y))
    assert repr(f).startswith(cls.__name__)


def test_functional_scores_predict_accuracy(backend, dtype):
    W, X, y = make_problem(4, 9, 300, dtype, seed=6, order="F")
    S = steepest.scores(W, X, backend=backend)
    assert S.dtype == dtype and S.shape == (4, 300)
    np.testing.assert_allclose(S, W.astype(np.float64) @ X.astype(np.float64), rtol=TOL[dtype][1], atol=TOL[dtype][1])
    pred = steepest.predict(W, X, backend=backend)
    assert pred.dtype == np.int64
    assert steepest.accuracy(W, X, y, backend=backend) == pytest.approx(np.mean(pred == y))


def test_the_naive_and_vectorized_references_agree():
    W, X, y = make_problem(4, 6, 50, seed=7)
    for naive, vec in (
        (reference.svm_loss_naive, reference.svm_loss_vectorized),
        (reference.softmax_loss_naive, reference.softmax_loss_vectorized),
    ):
        l1, g1 = naive(W, X, y, 0.3)
        l2, g2 = vec(W, X, y, 0.3)
        assert l1 == pytest.approx(l2, rel=1e-13)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-13)
    assert reference.L(X, y, W) == pytest.approx(reference.svm_loss_vectorized(W, X, y)[0], rel=1e-13)
    assert reference.L_i(X[:, 0], y[0], W) == pytest.approx(reference.L_i_vectorized(X[:, 0], y[0], W))


@pytest.mark.parametrize("kind", LOSSES)
def test_analytic_gradient_agrees_with_centered_differences(backend, kind):
    # float64, a point away from hinge kinks: check that no margin is within 1e-3 of zero.
    W, X, y = make_problem(3, 5, 40, seed=8)
    S = W @ X
    M = S - S[y, np.arange(40)] + 1.0
    M[y, np.arange(40)] = 10.0
    assert np.abs(M).min() > 1e-3
    f = LOSSES[kind][2](X, y, reg=0.1, backend=backend)
    numeric = reference.eval_numerical_gradient_centered(f, W.copy(), h=1e-6)
    analytic = f.grad(W)
    rel = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-300)
    assert rel.max() <= 1e-6


# --- properties ------------------------------------------------------------------------------


problems = st.tuples(
    st.integers(2, 6), st.integers(1, 12), st.integers(1, 60), st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problems)
def test_properties(backend, problem):
    C, D, N, seed, scale = problem
    rng = np.random.default_rng(seed)
    W = rng.uniform(-scale, scale, (C, D))
    X = rng.uniform(-1, 1, (D, N))
    y = rng.integers(0, C, N)
    shift = rng.standard_normal(D) * scale
    for _kind, (func, loss_only, _, ref) in LOSSES.items():
        loss, dW = func(W, X, y, backend=backend)
        rloss, rdW = ref(W, X, y, 0.0)
        assert np.isfinite(loss) and loss >= 0.0
        assert loss == pytest.approx(rloss, rel=1e-10, abs=1e-12)
        # gradient columns sum to zero across classes (reg = 0)
        np.testing.assert_allclose(dW.sum(axis=0), 0.0, atol=1e-9 * max(1.0, np.abs(dW).max()) * C)
        # shifting every row of W by one vector leaves the data loss unchanged
        shifted = loss_only(W + shift, X, y, backend=backend)
        assert shifted == pytest.approx(loss, rel=1e-9, abs=1e-9 * scale * D)
    zero = np.zeros((C, D))
    assert steepest.svm_loss(zero, X, y, delta=1.5, backend=backend) == pytest.approx((C - 1) * 1.5, rel=1e-14)
    assert steepest.softmax_loss(zero, X, y, backend=backend) == pytest.approx(np.log(C), rel=1e-14)


def test_softmax_is_finite_for_huge_score_gaps(backend):
    # entries up to 1e3 give score gaps of 1e6: -log(p) of a probability would be inf
    rng = np.random.default_rng(9)
    W = rng.uniform(-1e3, 1e3, (10, 30))
    X = rng.uniform(-1e3, 1e3, (30, 200))
    y = rng.integers(0, 10, 200)
    loss, dW = steepest.softmax_loss_grad(W, X, y, backend=backend)
    rloss, rdW = reference.softmax_loss_vectorized(W, X, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    assert loss == pytest.approx(rloss, rel=1e-12)


def test_overflowing_scores_raise(backend):
    # score gaps of 1e78 cannot be represented in float32: raise instead of returning inf or NaN
    W = np.full((3, 4), 3e38, dtype=np.float32)
    W[0] = -3e38
    X = np.full((4, 5), 3e38, dtype=np.float32)
    y = np.zeros(5, dtype=np.int64)
    for func in (steepest.svm_loss_grad, steepest.softmax_loss_grad):
        with pytest.raises(FloatingPointError, match="overflow"):
            func(W, X, y, backend=backend)


# --- threads, determinism, concurrency, inputs ---------------------------------------------------


@pytest.mark.parametrize("kind", LOSSES)
def test_bitwise_identical_for_any_thread_count(backend, dtype, kind):
    W, X, y = make_problem(10, 40, 20011, dtype, seed=10, scale=0.1)
    func = LOSSES[kind][0]
    with steepest.num_threads(1):
        loss1, dW1 = func(W, X, y, reg=0.1, backend=backend)
    for n in (2, 3, 8):
        with steepest.num_threads(n):
            loss, dW = func(W, X, y, reg=0.1, backend=backend)
        assert loss == loss1
        assert np.array_equal(dW, dW1)
    for _ in range(20):
        loss, dW = func(W, X, y, reg=0.1, backend=backend)
        assert loss == loss1 and np.array_equal(dW, dW1)


@pytest.mark.parametrize("order", ["C", "F"])
def test_bitwise_identical_minibatches_for_any_thread_count(backend, order):
    # mini-batches are cut into fewer, smaller blocks than full passes (so that every thread gets
    # work): still by the batch size alone, never by the thread count
    W, X, y = make_problem(10, 300, 5000, np.float64, seed=11, scale=0.1, order=order)
    rng = np.random.default_rng(3)
    for B in (1, 17, 200, 333):
        idx = rng.integers(0, X.shape[1], B)
        for cls in (steepest.SVMLoss, steepest.SoftmaxLoss):
            batch = cls(X, y, 0.1, backend=backend).subset(idx)
            with steepest.num_threads(1):
                loss1, dW1 = batch.loss_grad(W)
            for n in (2, 3, 8):
                with steepest.num_threads(n):
                    loss, dW = batch.loss_grad(W)
                assert loss == loss1 and np.array_equal(dW, dW1), (cls.__name__, B, n)


def test_concurrent_python_threads_match_serial(backend):
    problems = [make_problem(10, 50, 3001, seed=s, order="CF"[s % 2]) for s in range(8)]
    serial = [steepest.svm_loss_grad(W, X, y, backend=backend) for W, X, y in problems]
    with cf.ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda p: steepest.svm_loss_grad(*p, backend=backend), problems))
    for (l1, g1), (l2, g2) in zip(serial, parallel):
        assert l1 == l2 and np.array_equal(g1, g2)


def test_inputs_are_not_modified_and_read_only_inputs_work(backend, dtype, tmp_path):
    W, X, y = make_problem(5, 8, 100, dtype, seed=11)
    copies = (W.copy(), X.copy(), y.copy())
    for arr in (W, X, y):
        arr.flags.writeable = False
    expected = steepest.svm_loss_grad(W.copy(), X.copy(), y.copy(), backend=backend)
    for func in (steepest.svm_loss_grad, steepest.softmax_loss_grad):
        func(W, X, y, reg=0.3, backend=backend)
    for arr, copy in zip((W, X, y), copies):
        np.testing.assert_array_equal(arr, copy)
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.load(tmp_path / "X.npy", mmap_mode="r")
    loss, dW = steepest.svm_loss_grad(W, ro, y, backend=backend)
    assert loss == expected[0] and np.array_equal(dW, expected[1])


def test_strided_x_is_copied_once_and_gives_the_same_result(backend):
    W, X, y = make_problem(3, 6, 200, seed=12)
    wide = np.zeros((6, 400))
    wide[:, ::2] = X
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    assert steepest.svm_loss(W, strided, y, backend=backend) == steepest.svm_loss(W, X, y, backend=backend)
