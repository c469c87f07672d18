"""The same outcome on every backend for inputs the kernels could read differently, and files written
with the permissions any program's would get."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import steepest
from steepest import _atomic


def _misaligned(shape, dtype=np.float64):
    """A C-contiguous array whose data starts one byte past an item boundary."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.zeros(n + 1, dtype=np.uint8)
    a = raw[1:].view(dtype).reshape(shape)
    assert not a.flags.aligned and a.flags.c_contiguous
    a[...] = np.random.default_rng(0).standard_normal(shape)
    return a


@pytest.mark.parametrize("which", ["W", "X"])
def test_misaligned_arrays_are_refused_alike_on_every_backend(backend, which):
    rng = np.random.default_rng(1)
    W, X, y = rng.standard_normal((3, 8)), rng.standard_normal((8, 20)), rng.integers(0, 3, 20)
    if which == "W":
        W = _misaligned(W.shape)
    else:
        X = _misaligned(X.shape)
    with pytest.raises(ValueError, match=rf"{which} must be aligned.*np.require\({which}, requirements='A'\)"):
        steepest.svm_loss_grad(W, X, y, backend=backend)


def test_misaligned_labels_are_read_through_an_aligned_copy(backend):
    rng = np.random.default_rng(2)
    W, X = rng.standard_normal((3, 8)), rng.standard_normal((8, 20))
    y = rng.integers(0, 3, 20)
    raw = np.zeros(20 * 8 + 1, dtype=np.uint8)
    y_odd = raw[1:].view(np.int64)
    y_odd[:] = y
    assert not y_odd.flags.aligned
    assert steepest.svm_loss(W, X, y_odd, backend=backend) == steepest.svm_loss(W, X, y, backend=backend)


def test_numpy_integers_are_thread_counts():
    with steepest.num_threads(np.int64(1)):
        assert steepest.get_num_threads() == 1
    with steepest.num_threads(np.int32(2)):
        assert steepest.get_num_threads() == 2
    with pytest.raises(TypeError, match="n_threads"):
        steepest.set_num_threads(np.bool_(True))


def test_written_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        _atomic.write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode)
    assert mode == 0o640
    _atomic.write_text(tmp_path / "b.txt", "y")
    assert stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode) == 0o666 & ~old


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_huge_finite_weights_without_a_penalty_are_no_overflow(backend, kind):
    """sum(W*W) overflows for W near 1e200, but with reg = 0 the loss has no penalty term: no false
    FloatingPointError from 0 * inf. The scores themselves stay finite here (X is tiny)."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 6)) * 1e200
    X = rng.standard_normal((6, 10)) * 1e-200
    y = rng.integers(0, 3, 10)
    f = steepest.svm_loss_grad if kind == "svm" else steepest.softmax_loss_grad
    value, dW = f(W, X, y, 0.0, backend=backend)
    assert np.isfinite(value) and np.all(np.isfinite(dW))
    with pytest.raises(FloatingPointError):
        f(W, X, y, 1.0, backend=backend)
