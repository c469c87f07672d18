"""Reliability gates that span modules: leaks, Ctrl-C, finite-difference sweeps."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import steepest

from conftest import make_problem


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_no_leaks_over_10000_calls_on_the_normal_and_the_error_path(backend):
    W, X, y = make_problem(3, 5, 20, seed=0)
    f = steepest.SVMLoss(X, y, backend=backend)
    bad = np.array(y)
    bad[3] = 99
    kernels = steepest._backends.get(backend)

    def normal():
        f.loss_grad(W)
        steepest.softmax_loss_grad(W, X, y, backend=backend)

    def error():
        with pytest.raises(ValueError):
            steepest.svm_loss_grad(W, X, bad, backend=backend)
        if backend == "cpp":  # the binding's own checks: wrong dtype straight into the extension
            with pytest.raises(TypeError):
                kernels.svm_loss_grad(W.astype(np.float32), X, y, None, 0.0, 1.0, True, 1)

    for path in (normal, error):
        for _ in range(1000):  # warm-up: caches, JIT, allocator pools
            path()
        before = rss_bytes()
        for _ in range(10_000):
            path()
        growth = rss_bytes() - before
        assert growth < 1 << 20, f"{path.__name__}: RSS grew by {growth / 1024:.0f} KiB over 10,000 calls"


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_stops_the_per_weight_loop_and_restores_x():
    x = np.linspace(-1.0, 1.0, 400)
    original = x.copy()

    def slow(v):
        time.sleep(0.002)
        return float(v @ v)

    timer = _interrupt_after(0.2)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        steepest.eval_numerical_gradient(slow, x, method="centered")
    reacted = time.perf_counter() - start - 0.2
    timer.cancel()
    assert reacted < 0.25
    assert np.array_equal(x, original)
    assert steepest.eval_numerical_gradient(lambda v: float(v.sum()), x[:3].copy()).shape == (3,)  # still usable


def test_numerical_gradient_never_modifies_W_or_the_data(backend):
    W, X, y = make_problem(4, 6, 50, seed=1)
    copies = W.copy(), X.copy(), y.copy()
    for loss in (steepest.SVMLoss(X, y, reg=0.1, backend=backend), steepest.SoftmaxLoss(X, y, backend=backend)):
        steepest.eval_numerical_gradient(loss, W, method="centered")
        steepest.grad_check(loss, W)
    for a, b in zip((W, X, y), copies):
        assert np.array_equal(a, b)


def test_numerical_gradient_is_bitwise_identical_for_any_thread_count(backend):
    W, X, y = make_problem(10, 40, 3001, seed=2, scale=0.1)
    for cls in (steepest.SVMLoss, steepest.SoftmaxLoss):
        loss = cls(X, y, reg=0.2, backend=backend)
        with steepest.num_threads(1):
            first = steepest.numerical_gradient(loss, W)
        for n in (2, 3, 8):
            with steepest.num_threads(n):
                other = steepest.numerical_gradient(loss, W)
            assert np.array_equal(first.forward, other.forward) and np.array_equal(first.backward, other.backward)
            if first.kinks is not None:
                assert np.array_equal(first.kinks, other.kinks)
