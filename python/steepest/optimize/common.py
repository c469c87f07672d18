"""Shared machinery of :mod:`steepest.optimize`: result objects, argument checks, progress, callbacks.

Every strategy and descent loop validates its arguments here, before any work starts, with the same
messages (``TypeError`` for the wrong kind, ``ValueError`` for a bad value, naming the argument).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import numpy as np

from .. import _backends, _validate
from .._table import key_values, table
from ..losses import LinearLoss


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class OptimizeResult:
    """What a strategy or descent loop reached.

    ``W`` the weights returned, ``loss`` its loss (see each function for which loss exactly),
    ``loss_history`` one value per iteration, ``nfev`` / ``ngev`` the loss and gradient evaluations
    (a mini-batch evaluation counts as one), ``nit`` the iterations done, ``elapsed`` seconds of this
    call, ``interrupted`` True when Ctrl-C stopped the run (the result holds what was reached),
    ``backend`` the kernels used. Optional fields are ``None`` where they do not apply.
    """

    method: str
    W: np.ndarray
    loss: float
    loss_history: np.ndarray
    nfev: int
    ngev: int
    nit: int
    elapsed: float
    interrupted: bool
    backend: str
    best_history: np.ndarray | None = None
    accepted: int | None = None
    lr_history: np.ndarray | None = None
    val_steps: np.ndarray | None = None
    val_acc_history: np.ndarray | None = None
    best_val_acc: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    converged: bool | None = None
    message: str = ""
    details: dict = field(default_factory=dict)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of every column of X (D, N): ``argmax(W @ X)``."""
        from ..losses import predict

        return predict(self.W, X, backend=self.backend)

    def accuracy(self, X: Any, y: Any) -> float:
        """The fraction of columns of X whose predicted class equals y."""
        from ..losses import accuracy

        return accuracy(self.W, X, y, backend=self.backend)

    def _rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("method", self.method),
            ("backend", self.backend),
            ("W", f"{self.W.shape} {self.W.dtype}"),
            ("loss", float(self.loss)),
            ("iterations", self.nit),
            ("nfev / ngev", f"{self.nfev} / {self.ngev}"),
            ("elapsed", f"{self.elapsed:.3g} s"),
        ]
        if self.accepted is not None:
            rows.append(("accepted", self.accepted))
        if self.val_acc_history is not None and len(self.val_acc_history):
            rows.append(("validation accuracy", f"{self.val_acc_history[-1]:.4f} (last), {self.best_val_acc:.4f} (best, step {self.best_step})"))
        if self.converged is not None:
            rows.append(("converged", self.converged))
        if self.stopped_early:
            rows.append(("stopped early", True))
        rows.append(("interrupted", self.interrupted))
        if self.message:
            rows.append(("message", self.message))
        return rows

    def __str__(self) -> str:
        return key_values(self._rows(), title=f"{self.method} result")

    def as_dict(self) -> dict:
        """JSON-friendly summary (arrays as lists, W left out)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "W":
                out["W_shape"] = list(value.shape)
                continue
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


@dataclass(frozen=True, eq=False)
class LinearClassifier(OptimizeResult):
    """A trained linear classifier (CS231n's ``LinearSVM`` / ``Softmax`` after ``train``).

    ``W`` (C, D); ``predict(X)`` and ``accuracy(X, y)`` with X as (D, N); ``loss_history`` one
    mini-batch loss per iteration.
    """

    loss_name: str = "svm"
    reg: float = 0.0
    learning_rate: float = 0.0

    def _rows(self):
        return [("classifier", f"{self.loss_name}, reg {self.reg:g}, learning rate {self.learning_rate:g}")] + super()._rows()


@dataclass(frozen=True, eq=False)
class StepSizeSweep:
    """The notes' step-size table: ``loss(W - step * dW)`` for each step, the best one marked."""

    steps: np.ndarray
    losses: np.ndarray
    loss0: float
    best_index: int
    nfev: int
    ngev: int
    elapsed: float
    backend: str
    method: str

    @property
    def best_step(self) -> float:
        return float(self.steps[self.best_index])

    @property
    def best_loss(self) -> float:
        return float(self.losses[self.best_index])

    def rows(self) -> list[tuple[float, float, float, bool]]:
        """(step, new loss, change from the original loss, is best) per step."""
        return [(float(s), float(l), float(l - self.loss0), i == self.best_index)
                for i, (s, l) in enumerate(zip(self.steps, self.losses))]

    def lines(self) -> list[str]:
        """The notes' printout, one line per step."""
        return ["for step size %e new loss: %f" % (s, l) for s, l in zip(self.steps, self.losses)]

    def __str__(self) -> str:
        rows = [(f"{s:.0e}" if s == float(f"{s:.0e}") else f"{s:.3e}", l, d, "<- best" if b else "")
                for s, l, d, b in self.rows()]
        return table(["step size", "new loss", "change", ""], rows,
                     title=f"step-size sweep from loss {self.loss0:.6g} ({self.method}, backend {self.backend}, {self.elapsed:.3g} s)")

    def as_dict(self) -> dict:
        return {"steps": self.steps.tolist(), "losses": self.losses.tolist(), "loss0": self.loss0,
                "best_step": self.best_step, "best_loss": self.best_loss, "nfev": self.nfev, "ngev": self.ngev,
                "elapsed": self.elapsed, "backend": self.backend, "method": self.method}


# --- argument checks -------------------------------------------------------------------------------


def check_linear_loss(loss: Any, name: str = "loss") -> LinearLoss:
    if not isinstance(loss, LinearLoss):
        raise TypeError(f"{name} must be an SVMLoss or SoftmaxLoss (e.g. steepest.SVMLoss(X, y, reg)); got {type(loss).__name__}")
    return loss


def check_loss_or_callable(loss: Any) -> LinearLoss | Callable:
    if isinstance(loss, LinearLoss):
        return loss
    if not callable(loss):
        raise TypeError(f"loss must be an SVMLoss, a SoftmaxLoss or a callable f(W) -> float; got {type(loss).__name__}")
    return loss


def check_callback(callback: Any) -> Callable | None:
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a callable callback(step, info) -> bool | None; got {type(callback).__name__}")
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
            raise ValueError(f"{name}[0] must be at least 2 and exceed the largest label {loss.min_classes - 1}; "
                             f"got {shape!r}")
    return (c, d)


def check_W0(W0: Any, loss: Any, name: str = "W0") -> np.ndarray:
    """A validated private copy of the starting weights (the caller's array is never modified)."""
    if isinstance(loss, LinearLoss):
        W = _validate.float_array(W0, name, 2)
        if W.dtype != loss.dtype:
            raise TypeError(f"{name} must have the dtype of X ({loss.dtype}); got {W.dtype}")
        check_shape(W.shape, loss, f"{name}.shape")
    else:
        W = _validate.float_array(W0, name, 2)
    return np.array(W, order="C", copy=True)


def check_real_or_none(value: Any, name: str, low: float = 0.0) -> float | None:
    return None if value is None else _validate.real(value, name, low=low)


def check_unit(value: Any, name: str) -> float:
    """A coefficient in [0, 1) (momentum, Adam's betas)."""
    v = _validate.real(value, name, low=0.0)
    if v >= 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {v}")
    return v


# --- progress, callbacks, interruption ----------------------------------------------------------


def call_back(callback: Callable | None, step: int, info: dict) -> bool:
    """True when the callback asks to stop."""
    return bool(callback(step, info)) if callback is not None else False


def finite_or_raise(value: float, what: str, hint: str) -> float:
    if not math.isfinite(value):
        raise FloatingPointError(f"{what} is not finite ({value}); {hint}")
    return value
