"""Loss-and-gradient kernels against the memory floor (reading X once) and the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import reference
from steepest.cli.measure import numpy_svm_rows

BACKENDS = steepest.backends()


@pytest.mark.benchmark(group="svm float64")
def test_read_x_once(benchmark, cifar64):
    rows, y, W = cifar64
    benchmark(rows.sum)


@pytest.mark.benchmark(group="svm float64")
def test_numpy_reference_on_rows(benchmark, cifar64):
    rows, y, W = cifar64
    loss, dW = benchmark(numpy_svm_rows, W, rows, y)
    assert np.isfinite(loss)


@pytest.mark.benchmark(group="svm float64")
@pytest.mark.parametrize("backend", BACKENDS)
def test_svm_loss_grad(benchmark, cifar64, backend):
    rows, y, W = cifar64
    f = steepest.SVMLoss(rows.T, y, backend=backend)
    expected = numpy_svm_rows(W, rows, y)
    loss, dW = benchmark(f.loss_grad, W)
    assert loss == pytest.approx(expected[0], rel=1e-10)
    np.testing.assert_allclose(dW, expected[1], rtol=1e-8, atol=1e-8 * np.abs(expected[1]).max())


@pytest.mark.benchmark(group="softmax float64")
@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_loss_grad(benchmark, cifar64, backend):
    rows, y, W = cifar64
    f = steepest.SoftmaxLoss(rows.T, y, backend=backend)
    expected = reference.softmax_loss_vectorized(W, rows.T[:, :2000], y[:2000])
    assert steepest.SoftmaxLoss(rows.T[:, :2000], y[:2000], backend=backend)(W) == pytest.approx(expected[0], rel=1e-10)
    loss, dW = benchmark(f.loss_grad, W)
    assert np.isfinite(loss)


@pytest.mark.benchmark(group="svm float32")
def test_read_x32_once(benchmark, cifar32):
    rows, y, W = cifar32
    benchmark(rows.sum)


@pytest.mark.benchmark(group="svm float32")
@pytest.mark.parametrize("backend", BACKENDS)
def test_svm_loss_grad_float32(benchmark, cifar32, backend):
    rows, y, W = cifar32
    f = steepest.SVMLoss(rows.T, y, backend=backend)
    loss, dW = benchmark(f.loss_grad, W)
    assert dW.dtype == np.float32
    assert loss == pytest.approx(reference.svm_loss_vectorized(W, rows.T, y)[0], rel=1e-5)


@pytest.mark.benchmark(group="numerical gradient float64")
@pytest.mark.parametrize("backend", BACKENDS)
def test_numerical_gradient_svm(benchmark, cifar64, backend):
    rows, y, W = cifar64
    f = steepest.SVMLoss(rows.T, y, backend=backend)
    fd = benchmark.pedantic(steepest.numerical_gradient, args=(f, W), rounds=3, warmup_rounds=1)
    assert np.all(fd.backward <= f.grad(W) + 1e-6) and np.all(f.grad(W) <= fd.forward + 1e-6)
