"""``cs231n/gradient_check.py``: numerical gradients and the sparse gradient check, as the assignment's.

For any function ``f`` these run the assignment's loops, printing what they print: centered
differences ``(f(x + h) - f(x - h)) / 2h``, one index at a time, ``x`` perturbed in place and restored
(also when ``f`` raises or on Ctrl-C).

For steepest's losses they take the exact path. The notebook's
``f = lambda w: svm_loss_naive(w, X_dev, y_dev, 0.0)[0]`` cannot be recognised (a lambda is opaque), so
the one change is to build ``f`` with :func:`loss_function`::

    f = loss_function(svm_loss_naive, X_dev, y_dev, 0.0)  # was: lambda w: svm_loss_naive(w, X_dev, y_dev, 0.0)[0]
    grad_check_sparse(f, W, grad)                          # the same lines, computed exactly

``f(W)`` is still ``svm_loss_naive(W, X_dev, y_dev, 0.0)[0]``; but when ``loss_fn`` is one of the four
losses of :mod:`steepest.cs231n.classifiers`, :func:`eval_numerical_gradient` and
:func:`grad_check_sparse` compute the centered differences of every weight at once, exactly, with
``steepest.eval_numerical_gradient`` on an ``SVMLoss`` / ``SoftmaxLoss`` of ``X.T`` (W transposed):
two passes over X instead of two loss evaluations per weight, and without the loop's cancellation
error (the numbers agree with the loop's to that error, about 1e-10). The random indices of
``grad_check_sparse`` are drawn exactly as the assignment draws them (``random.randrange`` per
dimension, ``num_checks`` times), so ``random.seed(s)`` picks the same weights.
"""

from __future__ import annotations

from random import randrange
from typing import Any

import numpy as np

from .. import _validate
from ..gradients import eval_numerical_gradient as _exact_numerical_gradient
from ..losses import SoftmaxLoss, SVMLoss
from . import _checks
from .classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from .classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "loss_function",
    "LossFunction",
]

# The losses whose numerical gradient steepest computes exactly: each is steepest's loss on (X.T, y).
_EXACT = {
    svm_loss_naive: SVMLoss,
    svm_loss_vectorized: SVMLoss,
    softmax_loss_naive: SoftmaxLoss,
    softmax_loss_vectorized: SoftmaxLoss,
}


class LossFunction:
    """``f(W) = loss_fn(W, X, y, reg)[0]``: the notebook's loss lambda, in a form steepest recognises.

    Built by :func:`loss_function`. Calling it calls ``loss_fn``; the gradient-check functions of this
    module compute its centered differences exactly when ``loss_fn`` is one of steepest's four losses
    (``exact`` is then True), and run the assignment's loop otherwise.
    """

    def __init__(self, loss_fn: Any, X: Any, y: Any, reg: Any):
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable (a loss such as svm_loss_naive); got {type(loss_fn).__name__}")
        self.X = _checks.rows(X)
        self.y = _checks.labels(y, self.X)
        self.reg = _validate.reg(reg)
        self.loss_fn = loss_fn
        self._loss_class = _EXACT.get(loss_fn)
        self._loss = None  # steepest's loss on (X.T, y, reg), built on first use

    @property
    def exact(self) -> bool:
        """True when the numerical gradient is computed exactly (``loss_fn`` is one of steepest's)."""
        return self._loss_class is not None

    def __call__(self, W: Any):
        return self.loss_fn(W, self.X, self.y, self.reg)[0]

    def centered_differences(self, x: Any, h: float) -> np.ndarray:
        """``(f(x + h E) - f(x - h E)) / 2h`` for every weight of ``x`` (D, C), exactly, as float64 (D, C)."""
        if not self.exact:
            raise ValueError(f"{self!r} is not one of steepest's losses: its differences need the loop")
        W = _checks.weights(x, self.X, "x")
        if int(self.y.max()) >= W.shape[1]:
            raise ValueError(
                f"y must hold labels in [0, {W.shape[1]}) for x with {W.shape[1]} columns (classes); "
                f"its largest label is {int(self.y.max())}"
            )
        if self._loss is None:
            self._loss = self._loss_class(self.X.T, self.y, self.reg)
        return _exact_numerical_gradient(self._loss, _checks.to_steepest(W), h=h, method="centered").T

    def __repr__(self) -> str:
        name = getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__)
        return f"loss_function({name}, X {self.X.shape}, y ({len(self.y)},), reg={self.reg!r})"


def loss_function(loss_fn, X, y, reg):
    """``f`` with ``f(W) = loss_fn(W, X, y, reg)[0]``, which the gradient checks here compute exactly.

    Replaces the notebook's ``lambda w: loss_fn(w, X, y, reg)[0]``; ``loss_fn`` is one of
    ``svm_loss_naive``, ``svm_loss_vectorized``, ``softmax_loss_naive``, ``softmax_loss_vectorized`` of
    :mod:`steepest.cs231n.classifiers` (any other callable is accepted and checked by the loop).
    X (N, D) is kept, not copied.
    """
    return LossFunction(loss_fn, X, y, reg)


def _function(f: Any) -> Any:
    if not callable(f):
        raise TypeError(f"f must be callable (a function of x returning a float); got {type(f).__name__}")
    return f


def _point(x: Any) -> np.ndarray:
    """The point of a loop: a float ndarray the loop can perturb in place."""
    x = _validate.ndarray(x, "x", "float32 or float64")
    x = _validate.float_array(x, "x", x.ndim)
    if not x.flags.writeable:
        raise ValueError("x must be writeable: the loop perturbs it in place (and restores it)")
    return x


def _exact(f: Any) -> bool:
    return isinstance(f, LossFunction) and f.exact


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    """A naive implementation of numerical gradient of f at x (the assignment's; exact for steepest's losses).

    - f should be a function that takes a single argument
    - x is the point (numpy array) to evaluate the gradient at

    Centered differences, one index at a time in ``np.nditer`` order; ``verbose`` prints ``ix grad[ix]``
    per index. When ``f`` comes from :func:`loss_function` with one of steepest's losses, all the
    differences are computed at once, exactly (x is then not touched). Returns an array like ``x``.
    """
    verbose = _validate.boolean(verbose, "verbose")
    h = _validate.positive(h, "h")
    if _exact(f):
        x = _validate.ndarray(x, "x", "float32 or float64")
        grad = np.zeros_like(x)
        grad[...] = f.centered_differences(x, h)
        if verbose:
            it = np.nditer(x, flags=["multi_index"])
            while not it.finished:
                print(it.multi_index, grad[it.multi_index])
                it.iternext()
        return grad
    f = _function(f)
    x = _point(x)
    f(x)  # evaluate function value at original point (as the assignment does)
    grad = np.zeros_like(x)
    # iterate over all indexes in x
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        try:
            x[ix] = oldval + h  # increment by h
            fxph = f(x)  # evaluate f(x + h)
            x[ix] = oldval - h
            fxmh = f(x)  # evaluate f(x - h)
        finally:
            x[ix] = oldval  # restore
        grad[ix] = (fxph - fxmh) / (2 * h)  # the slope, centered
        if verbose:
            print(ix, grad[ix])
        it.iternext()  # step to next dimension
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Evaluate a numeric gradient for a function that accepts a numpy array and returns a numpy array.

    ``grad[ix] = sum((f(x + h) - f(x - h)) * df) / 2h`` per index of ``x``, where ``df`` is the upstream
    gradient, of ``f(x)``'s shape. The assignment's loop (``x`` is perturbed in place and restored).
    """
    f = _function(f)
    x = _point(x)
    df = _validate.ndarray(df, "df", "the upstream gradient")
    h = _validate.positive(h, "h")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        try:
            x[ix] = oldval + h
            pos = np.array(f(x), copy=True)
            x[ix] = oldval - h
            neg = np.array(f(x), copy=True)
        finally:
            x[ix] = oldval
        if pos.shape != df.shape:
            raise ValueError(f"df must have the shape of f(x), {pos.shape}; got {df.shape}")
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Sample a few random elements and only return numerical in these dimensions (the assignment's).

    For each of ``num_checks`` indices drawn with ``random.randrange`` per dimension, prints
    ``numerical: %f analytic: %f, relative error: %e``. Returns None, as the assignment's. When ``f``
    comes from :func:`loss_function` with one of steepest's losses, the numerical values are the exact
    centered differences (x is then not touched).
    """
    exact = _exact(f)
    if not exact:
        f = _function(f)
    x = _validate.ndarray(x, "x", "float32 or float64") if exact else _point(x)
    analytic_grad = _validate.ndarray(analytic_grad, "analytic_grad", "the analytic gradient")
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad must have x's shape {x.shape}; got {analytic_grad.shape}")
    num_checks = _validate.integer(num_checks, "num_checks", low=0)
    h = _validate.positive(h, "h")
    differences = f.centered_differences(x, h) if exact and num_checks else None
    for _ in range(num_checks):
        ix = tuple([randrange(m) for m in x.shape])
        if exact:
            grad_numerical = differences[ix]
        else:
            oldval = x[ix]
            try:
                x[ix] = oldval + h  # increment by h
                fxph = f(x)  # evaluate f(x + h)
                x[ix] = oldval - h  # increment by h
                fxmh = f(x)  # evaluate f(x - h)
            finally:
                x[ix] = oldval  # reset
            grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 prints nan, as NumPy's does
            rel_error = abs(grad_numerical - grad_analytic) / (abs(grad_numerical) + abs(grad_analytic))
        print("numerical: %f analytic: %f, relative error: %e" % (grad_numerical, grad_analytic, rel_error))
