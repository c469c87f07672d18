"""Multiclass SVM and softmax losses of a linear classifier, their gradients, scores and accuracy.

Layout (the notes'): ``W`` is (C, D), ``X`` is (D, N) with one example per column, ``y`` (N,) holds
labels in [0, C). Data held as rows is passed as ``X_rows.T``; both memory orders of (D, N) are read
in place. float32 and float64 are native (W and X share a dtype, results keep it); sums accumulate in
float64. Each loss-and-gradient evaluation is one fused pass over X.

    SVM:      L = 1/N sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg * sum(W*W)
    softmax:  L = 1/N sum_i (logsumexp(s_i) - s_{y_i}) + reg * sum(W*W)

The loss objects validate X and y once, then evaluate any W cheaply: ``f = SVMLoss(X, y)`` is the
notes' ``CIFAR10_loss_fun`` (``f(W)`` returns the loss).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _backends, _validate

__all__ = [
    "SVMLoss",
    "SoftmaxLoss",
    "svm_loss",
    "svm_loss_grad",
    "softmax_loss",
    "softmax_loss_grad",
    "scores",
    "predict",
    "accuracy",
]


def _finite_loss(loss: float, what: str, dtype: np.dtype, dW: np.ndarray | None = None) -> float:
    """Refuse a result that overflowed (never return NaN or inf); float32 results must fit float32."""
    limit = float(np.finfo(dtype).max)
    if not (np.isfinite(loss) and abs(loss) <= limit) or (dW is not None and not np.all(np.isfinite(dW))):
        raise FloatingPointError(
            f"the {what} loss or its gradient is not finite in {dtype} (loss {loss}): the scores W @ X "
            "overflowed; scale W or X down (or use float64)"
        )
    return loss


class LinearLoss:
    """Shared machinery of :class:`SVMLoss` and :class:`SoftmaxLoss` (validation, backend, subsets)."""

    name = "linear"

    def __init__(self, X: Any, y: Any, reg: float = 0.0, *, backend: str | None = None, check_finite: bool = True):
        if backend is not None:
            _backends._check_name(backend)
        self.X = _validate.data(_validate.float_array(X, "X", 2, check_finite=check_finite))
        if isinstance(y, np.ndarray) and y.ndim == 1 and len(y) == self.X.shape[0] != self.X.shape[1]:
            raise ValueError(
                f"X must be (D, N) with one example per column: y has {len(y)} labels but X {self.X.shape} "
                "has that many rows; did you pass X as (N, D)? use X.T"
            )
        self.y = _validate.labels(y, self.X.shape[1], np.iinfo(np.int64).max)
        self.reg = _validate.reg(reg)
        self.backend = backend
        self._idx: np.ndarray | None = None
        self._max_label = int(self.y.max())

    # -- construction of related objects ---------------------------------------------------------
    def _options(self) -> dict:
        return {"reg": self.reg}

    def _replace(self, **attributes: Any) -> "LinearLoss":
        """A shallow copy with some attributes replaced (X, y and the validation are shared)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.__dict__.update(attributes)
        return other

    def subset(self, idx: Any) -> "LinearLoss":
        """The same loss on the examples ``idx`` (positions in this loss's examples, repeats allowed).

        Nothing is copied: the kernels gather the columns themselves (mini-batches).
        """
        idx = _validate.indices(idx, self.n)
        return self._replace(_idx=idx if self._idx is None else self._idx[idx])

    def with_backend(self, backend: str | None) -> "LinearLoss":
        """The same loss evaluated on another backend (nothing is copied)."""
        if backend is not None:
            _backends._check_name(backend)
        return self._replace(backend=backend)

    def with_reg(self, reg: float) -> "LinearLoss":
        return self._replace(reg=_validate.reg(reg))

    # -- shape facts -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """The number of examples this loss averages over."""
        return self.X.shape[1] if self._idx is None else self._idx.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def labels(self) -> np.ndarray:
        """The labels of the examples used (in order)."""
        return self.y if self._idx is None else self.y[self._idx]

    def check_weights(self, W: Any) -> np.ndarray:
        """W validated for this loss: (C, D) in X's dtype, C >= 2 and above every label, finite, C-contiguous."""
        W = _validate.float_array(W, "W", 2)
        if W.dtype != self.X.dtype:
            raise TypeError(f"W and X must share a dtype; got W {W.dtype} and X {self.X.dtype} (cast one with .astype)")
        if W.shape[1] != self.dim:
            hint = " did you pass X as (N, D)? use X.T" if W.shape[1] == self.X.shape[1] else ""
            raise ValueError(f"W.shape[1] must equal X.shape[0] (D); got W {W.shape} and X {self.X.shape}.{hint}")
        if W.shape[0] < 2:
            raise ValueError(f"W must have at least 2 rows (classes); got shape {W.shape}")
        if self._max_label >= W.shape[0]:
            bad = int(np.flatnonzero(self.y >= W.shape[0])[0])
            raise ValueError(f"y must hold labels in [0, {W.shape[0]}) for W with {W.shape[0]} rows; y[{bad}] = {int(self.y[bad])}")
        return _validate.weights(W)

    def _kernels(self):
        return _backends.get(self.backend)

    # -- evaluation --------------------------------------------------------------------------------
    def _kernel_loss_grad(self, W: np.ndarray, idx: np.ndarray | None, want_grad: bool):  # pragma: no cover - abstract
        """The backend's fused kernel on the examples ``idx`` of X (absolute positions, or None for all)."""
        raise NotImplementedError

    def _loss_grad(self, W: np.ndarray, want_grad: bool):
        return self._kernel_loss_grad(W, self._idx, want_grad)

    def loss_grad_at(self, W: np.ndarray, idx: np.ndarray | None) -> tuple[float, np.ndarray]:
        """``(loss, dW)`` on the examples at positions ``idx`` of this loss (None: all), for the training loops.

        The hot path of a mini-batch step: ``W`` must come from :meth:`check_weights` and ``idx`` be
        int64 positions in ``[0, n)`` drawn by the library; nothing is re-checked and the result is
        the kernel's, not yet checked for overflow (the loop does that once per step).
        """
        full = self._idx if idx is None else (idx if self._idx is None else self._idx[idx])
        return self._kernel_loss_grad(W, full, True)

    def __call__(self, W: Any) -> float:
        """The loss at ``W`` (one pass over X)."""
        return self.loss(W)

    def loss(self, W: Any) -> float:
        W = self.check_weights(W)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, as an error
            loss = self._loss_grad(W, False)[0]
        return _finite_loss(loss, self.name, W.dtype)

    def loss_grad(self, W: Any) -> tuple[float, np.ndarray]:
        """``(loss, dW)`` in one fused pass over X; ``dW`` has W's shape and dtype."""
        W = self.check_weights(W)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, dW = self._loss_grad(W, True)
        return _finite_loss(loss, self.name, W.dtype, dW), dW

    def grad(self, W: Any) -> np.ndarray:
        return self.loss_grad(W)[1]

    def numerical_gradient(self, W: Any, h: float = 1e-5, method: str = "forward") -> np.ndarray:
        """The finite differences the notes' loop would compute, exactly, for every weight (2 passes over X).

        See :func:`steepest.eval_numerical_gradient`.
        """
        from .gradients import eval_numerical_gradient

        return eval_numerical_gradient(self, W, h, method)

    def scores(self, W: Any) -> np.ndarray:
        """``W @ X`` for the examples used: (C, n) in W's dtype."""
        W = self.check_weights(W)
        return self._kernels().scores(W, self.X, self._idx, _backends.get_num_threads())

    def predict(self, W: Any) -> np.ndarray:
        """The predicted class of every example used: ``argmax`` of the scores (int64)."""
        return np.argmax(self.scores(W), axis=0).astype(np.int64)

    def accuracy(self, W: Any) -> float:
        """The fraction of examples whose predicted class is their label."""
        return float(np.mean(self.predict(W) == self.labels))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}(D={self.dim}, N={self.n}, dtype={self.dtype}, {opts})"


class SVMLoss(LinearLoss):
    """Multiclass SVM (Weston-Watkins) loss on fixed data: ``f(W)`` is the loss.

    ``L = 1/N sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg * sum(W*W)``; gradient row j
    gets ``1(margin_ij > 0) x_i``, row y_i gets minus the count of positive margins times ``x_i``,
    plus ``2 reg W``. X (D, N) and y (N,) are validated once here.
    """

    name = "svm"

    def __init__(self, X: Any, y: Any, reg: float = 0.0, delta: float = 1.0, *, backend: str | None = None, check_finite: bool = True):
        super().__init__(X, y, reg, backend=backend, check_finite=check_finite)
        self.delta = _validate.delta(delta)

    def _options(self) -> dict:
        return {"reg": self.reg, "delta": self.delta}

    def _kernel_loss_grad(self, W, idx, want_grad):
        return self._kernels().svm_loss_grad(W, self.X, self.y, idx, self.reg, self.delta, want_grad, _backends.get_num_threads())


class SoftmaxLoss(LinearLoss):
    """Softmax (cross-entropy) loss on fixed data: ``f(W)`` is the loss.

    ``L = 1/N sum_i (logsumexp(s_i) - s_{y_i}) + reg * sum(W*W)`` in log-sum-exp form; gradient row j
    gets ``(p_ij - 1(j == y_i)) x_i`` plus ``2 reg W``.
    """

    name = "softmax"

    def _kernel_loss_grad(self, W, idx, want_grad):
        return self._kernels().softmax_loss_grad(W, self.X, self.y, idx, self.reg, want_grad, _backends.get_num_threads())


def _bound(cls, W, X, y, backend, **options) -> tuple[LinearLoss, np.ndarray]:
    """Validate the functional arguments in the documented order (W, X, y, options) and build a loss."""
    W, X = _validate.weights_and_data(W, X)
    y = _validate.labels(y, X.shape[1], W.shape[0])
    return cls(X, y, backend=backend, check_finite=False, **options), W


def svm_loss(W, X, y, reg: float = 0.0, delta: float = 1.0, *, backend: str | None = None) -> float:
    """The multiclass SVM loss (see :class:`SVMLoss`); one pass over X."""
    loss, W = _bound(SVMLoss, W, X, y, backend, reg=reg, delta=delta)
    return loss.loss(W)


def svm_loss_grad(W, X, y, reg: float = 0.0, delta: float = 1.0, *, backend: str | None = None) -> tuple[float, np.ndarray]:
    """``(loss, dW)`` of the multiclass SVM in one fused pass over X."""
    loss, W = _bound(SVMLoss, W, X, y, backend, reg=reg, delta=delta)
    return loss.loss_grad(W)


def softmax_loss(W, X, y, reg: float = 0.0, *, backend: str | None = None) -> float:
    """The softmax loss (see :class:`SoftmaxLoss`); one pass over X."""
    loss, W = _bound(SoftmaxLoss, W, X, y, backend, reg=reg)
    return loss.loss(W)


def softmax_loss_grad(W, X, y, reg: float = 0.0, *, backend: str | None = None) -> tuple[float, np.ndarray]:
    """``(loss, dW)`` of the softmax loss in one fused pass over X."""
    loss, W = _bound(SoftmaxLoss, W, X, y, backend, reg=reg)
    return loss.loss_grad(W)


def scores(W, X, *, backend: str | None = None) -> np.ndarray:
    """``S = W @ X``: (C, N) class scores in W's dtype (accumulated in float64)."""
    W, X = _validate.weights_and_data(W, X)
    return _checked_scores(W, X, backend)


def _checked_scores(W, X, backend: str | None) -> np.ndarray:
    """``scores`` for W and X already validated (X is read once, not checked again)."""
    return _backends.get(backend).scores(W, X, None, _backends.get_num_threads())


def predict(W, X, *, backend: str | None = None) -> np.ndarray:
    """The predicted class of every column of X (int64, shape (N,))."""
    return np.argmax(scores(W, X, backend=backend), axis=0).astype(np.int64)


def accuracy(W, X, y, *, backend: str | None = None) -> float:
    """The fraction of columns of X whose predicted class equals y."""
    W, X = _validate.weights_and_data(W, X)
    y = _validate.labels(y, X.shape[1], W.shape[0])
    return float(np.mean(np.argmax(_checked_scores(W, X, backend), axis=0) == y))
