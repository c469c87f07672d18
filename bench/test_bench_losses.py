"""Loss-and-gradient passes and the exact numerical gradient: one group per operation, each with its
baselines (NumPy at 1 BLAS thread and at its default, the memory floor; see conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

import steepest
from steepest import reference
from steepest.cli import measure

from conftest import BLAS, group, in_groups

BACKENDS = steepest.backends()
LOSSES = {"svm": steepest.SVMLoss, "softmax": steepest.SoftmaxLoss}

# group key -> (loss, dtype, order of X)
PASSES = {
    "svm-float64-F": ("svm", "float64", "F"),
    "svm-float64-C": ("svm", "float64", "C"),
    "softmax-float64-F": ("softmax", "float64", "F"),
    "svm-float32-F": ("svm", "float32", "F"),
}
PASS_GROUPS = {key: group(f"{kind} loss+grad", dtype, order) for key, (kind, dtype, order) in PASSES.items()}
# the exact centered numerical gradient of all weights, with one loss+grad pass as its unit
FD = {"svm-fd": "svm", "softmax-fd": "softmax"}
FD_GROUPS = {key: group(f"{kind} numerical gradient, all weights, exact", "float64") for key, kind in FD.items()}


def _numpy_reference(kind: str, rows, X, y, W):
    """The assignment's vectorized NumPy loss+grad: the SVM on (N, D) rows, the softmax on X (D, N)."""
    if kind == "svm":
        return measure.numpy_svm_rows(W, rows, y)
    return reference.softmax_loss_vectorized(W, X, y)


@pytest.mark.parametrize("key, backend", in_groups(PASS_GROUPS, BACKENDS))
def test_loss_grad(benchmark, workload, key, backend):
    kind, dtype, order = PASSES[key]
    rows, X, y, W = workload.get(dtype, order)
    expected, _ = _numpy_reference(kind, rows, rows.T, y, W)
    f = LOSSES[kind](X, y, backend=backend)
    loss, dW = f.loss_grad(W)  # checked (and compiled) before it is timed
    assert dW.dtype == X.dtype
    assert loss == pytest.approx(expected, rel=1e-10 if dtype == "float64" else 1e-5)
    benchmark(f.loss_grad, W)


@pytest.mark.parametrize("key, blas", in_groups(PASS_GROUPS | FD_GROUPS, BLAS))
def test_numpy_reference(benchmark, workload, key, blas):
    kind, dtype, _ = PASSES[key] if key in PASSES else (FD[key], "float64", "F")
    rows, X, y, W = workload.get(dtype)
    with measure.blas_threads(BLAS[blas]):
        loss, _ = benchmark(_numpy_reference, kind, rows, X, y, W)
    assert np.isfinite(loss)


@pytest.mark.parametrize("key, floor", in_groups(PASS_GROUPS, ["read X once, all threads"]))
def test_memory_floor(benchmark, workload, key, floor):
    _, dtype, order = PASSES[key]
    _, X, _, _ = workload.get(dtype, order)
    with measure.reader(X) as read:
        benchmark(read)


@pytest.mark.parametrize("key, backend", in_groups(FD_GROUPS, BACKENDS))
def test_numerical_gradient(benchmark, workload, key, backend):
    rows, X, y, W = workload.get("float64")
    f = LOSSES[FD[key]](X, y, backend=backend)
    fd = steepest.numerical_gradient(f, W)  # checked (and compiled) before it is timed
    dW = f.grad(W)
    if FD[key] == "svm":  # the SVM's one-sided differences bracket its gradient
        assert np.all(fd.backward <= dW + 1e-6) and np.all(dW <= fd.forward + 1e-6)
    else:
        np.testing.assert_allclose(fd.centered, dW, rtol=1e-4, atol=1e-6)
    benchmark.pedantic(steepest.numerical_gradient, args=(f, W), rounds=3)  # warmed up by the check


@pytest.mark.parametrize("key, backend", in_groups(FD_GROUPS, ["cpp"] if "cpp" in BACKENDS else []))
def test_one_loss_grad_pass(benchmark, workload, key, backend):
    """The unit of the numerical gradient's targets: one loss+grad pass of the same loss."""
    rows, X, y, W = workload.get("float64")
    f = LOSSES[FD[key]](X, y, backend=backend)
    benchmark(f.loss_grad, W)
