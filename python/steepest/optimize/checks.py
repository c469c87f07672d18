"""Argument checks shared by the strategies and the descent loops (the wording of ``_validate``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _backends, _validate
from ..losses import LinearLoss


def check_linear_loss(loss: Any, name: str = "loss") -> LinearLoss:
    if not isinstance(loss, LinearLoss):
        raise TypeError(
            f"{name} must be an SVMLoss or SoftmaxLoss (e.g. steepest.SVMLoss(X, y, reg)); got {type(loss).__name__}"
        )
    return loss


def check_loss_or_callable(loss: Any) -> LinearLoss | Callable:
    if isinstance(loss, LinearLoss):
        return loss
    if not callable(loss):
        raise TypeError(
            f"loss must be an SVMLoss, a SoftmaxLoss or a callable f(W) -> float; got {type(loss).__name__}"
        )
    return loss


def check_callback(callback: Any) -> Callable | None:
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be None or a callable callback(step, info) -> bool | None; got {type(callback).__name__}"
        )
    return callback


def check_backend(backend: Any, loss: Any) -> str:
    """The backend name a run uses: ``backend=``, else the loss's own, else the current default."""
    if backend is None and isinstance(loss, LinearLoss):
        backend = loss.backend
    return _backends.resolve(backend)


def check_shape(shape: Any, loss: Any, name: str = "shape") -> tuple[int, int]:
    """A (C, D) shape of positive ints; for a linear loss, D must match X and C exceed every label."""
    if shape is None:
        if not isinstance(loss, LinearLoss):
            raise ValueError(f"{name} must be given when loss is a plain callable")
        return (max(2, loss.min_classes), loss.dim)
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"{name} must be a tuple (C, D) of two ints; got {shape!r}")
    c = _validate.integer(shape[0], f"{name}[0]", low=1)
    d = _validate.integer(shape[1], f"{name}[1]", low=1)
    if isinstance(loss, LinearLoss):
        if d != loss.dim:
            raise ValueError(f"{name}[1] must equal X.shape[0] = {loss.dim} (D); got {shape!r}")
        if c < 2 or c < loss.min_classes:
            raise ValueError(
                f"{name}[0] must be at least 2 and exceed the largest label {loss.min_classes - 1}; got {shape!r}"
            )
    return (c, d)


def check_W0(W0: Any, loss: Any, name: str = "W0") -> np.ndarray:
    """A validated private copy of the starting weights (the caller's array is never modified)."""
    if isinstance(loss, LinearLoss):
        W = _validate.float_array(W0, name, 2)
        if W.dtype != loss.dtype:
            raise TypeError(f"{name} must have the dtype of X ({loss.dtype}); got {W.dtype}")
        _validate.weight_columns(W, (loss.dim, loss.n), name)
        check_shape(W.shape, loss, f"{name}.shape")
    else:
        W = _validate.float_array(W0, name, 2)
    return np.array(W, order="C", copy=True)


def check_validation(loss: LinearLoss, X_val: Any, y_val: Any, C: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validation data for a loss whose W has C rows: X_val (D, N_val) in X's dtype and its labels, or (None, None)."""
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together (or neither)")
    if X_val is None:
        return None, None
    X_val = _validate.float_array(X_val, "X_val", 2)
    if X_val.dtype != loss.dtype:
        raise TypeError(f"X_val must have the dtype of X ({loss.dtype}); got {X_val.dtype}")
    if X_val.shape[0] != loss.dim:
        hint = " did you pass X_val as (N, D)? use X_val.T" if X_val.shape[1] == loss.dim else ""
        raise ValueError(f"X_val.shape[0] must equal D = {loss.dim}; got X_val {X_val.shape}.{hint}")
    y_val = _validate.labels(y_val, X_val.shape[1], C, "y_val")
    return _validate.data(X_val), y_val


def check_unit(value: Any, name: str) -> float:
    """A coefficient in [0, 1) (momentum, Adam's betas)."""
    v = _validate.real(value, name, low=0.0)
    if v >= 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {v}")
    return v


def call_back(callback: Callable | None, step: int, info: dict) -> bool:
    """True when the callback asks to stop."""
    return bool(callback(step, info)) if callback is not None else False


def finite_or_raise(value: float, what: str, hint: str) -> float:
    if not math.isfinite(value):
        raise FloatingPointError(f"{what} is not finite ({value}); {hint}")
    return value
