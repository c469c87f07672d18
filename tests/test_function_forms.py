"""The function forms validate each input once: X's finiteness is seen in the kernel's own result.

``svm_loss_grad(W, X, y)`` and friends do not scan X before the kernel; a non-finite X shows as a
non-finite result (the kernels report a non-finite label score as NaN, so the hinge cannot hide a
margin of -inf), and only then is X scanned to name the entry. These tests build the cases where the
hinge alone would hide it, on every backend, and check that nothing is returned and nothing modified.
"""

from __future__ import annotations

import numpy as np
import pytest

import steepest

FUNCTIONS = {
    "svm_loss": lambda W, X, y, b: steepest.svm_loss(W, X, y, backend=b),
    "svm_loss_grad": lambda W, X, y, b: steepest.svm_loss_grad(W, X, y, 0.1, backend=b),
    "softmax_loss": lambda W, X, y, b: steepest.softmax_loss(W, X, y, backend=b),
    "softmax_loss_grad": lambda W, X, y, b: steepest.softmax_loss_grad(W, X, y, 0.1, backend=b),
    "scores": lambda W, X, y, b: steepest.scores(W, X, backend=b),
    "predict": lambda W, X, y, b: steepest.predict(W, X, backend=b),
    "accuracy": lambda W, X, y, b: steepest.accuracy(W, X, y, backend=b),
}


def _problem(dtype, order, bad):
    """Two classes whose weights on feature 3 have opposite signs: with X[3, i] = +inf the label's
    score is +inf and the other's -inf, so every SVM margin of example i is -inf (hidden by max(0, .))."""
    rng = np.random.default_rng(7)
    D, N = 6, 37
    X = np.asarray(rng.standard_normal((D, N)), dtype=dtype, order=order)
    y = rng.integers(0, 2, N)
    W = rng.standard_normal((2, D)).astype(dtype)
    i = 29
    W[y[i], 3], W[1 - y[i], 3] = 0.5, -0.5
    X[3, i] = bad
    return W, X, y


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_X_is_named_after_the_kernel_pass(backend, name, bad, order, dtype):
    W, X, y = _problem(dtype, order, bad)
    before = X.copy()
    with pytest.raises(ValueError, match=r"X must be finite; X\[3, 29\]"):
        FUNCTIONS[name](W, X, y, backend)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_finite_X_gives_the_object_forms_numbers(backend, name):
    W, X, y = _problem(np.float64, "F", 0.25)
    got = FUNCTIONS[name](W, X, y, backend)
    if name.startswith("svm") or name.startswith("softmax"):
        cls = steepest.SVMLoss if name.startswith("svm") else steepest.SoftmaxLoss
        reg = 0.1 if name.endswith("grad") else 0.0
        loss = cls(X, y, reg, backend=backend)
        want = loss.loss_grad(W) if name.endswith("grad") else loss.loss(W)
        if name.endswith("grad"):
            assert got[0] == want[0] and np.array_equal(got[1], want[1])
        else:
            assert got == want
    else:
        loss = steepest.SVMLoss(X, y, backend=backend)
        want = {"scores": loss.scores, "predict": loss.predict, "accuracy": loss.accuracy}[name](W)
        assert np.array_equal(got, want)


def test_overflow_with_finite_X_is_a_floating_point_error(backend):
    W, X, y = _problem(np.float32, "F", 1.0)
    W = np.sign(W) * np.float32(3e38)  # finite, but W @ X overflows float32
    with pytest.raises(FloatingPointError, match="overflowed"):
        steepest.svm_loss_grad(W, X, y, backend=backend)
