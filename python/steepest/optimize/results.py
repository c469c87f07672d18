"""The results of the strategies and descent loops: immutable, printable as tables."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .._table import key_values, table

#: The assignment's settings for CIFAR-10 (D = 3073, pixels 0..255): train_linear_classifier's defaults.
CIFAR_LEARNING_RATE, CIFAR_REG = 1e-7, 2.5e4


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
            rows.append(
                (
                    "validation accuracy",
                    f"{self.val_acc_history[-1]:.4f} (last), {self.best_val_acc:.4f} (best, step {self.best_step})",
                )
            )
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

    def __repr__(self) -> str:  # the table at the REPL, not the arrays
        return str(self)

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
        return [
            ("classifier", f"{self.loss_name}, reg {self.reg:g}, learning rate {self.learning_rate:g}")
        ] + super()._rows()

    def scale_hint(self) -> str:
        """A hint when the assignment's CIFAR-10 defaults (learning rate 1e-7, reg 2.5e4: D = 3073, pixels
        0..255) were used on small data such as digits, where they underfit; "" otherwise."""
        lr, reg = CIFAR_LEARNING_RATE, CIFAR_REG
        D = self.W.shape[1]
        if self.learning_rate != lr or self.reg != reg or D >= 3000:
            return ""
        return (
            f"hint: learning rate {lr:g} and reg {reg:g} are the assignment's settings for CIFAR-10 (D = 3073, "
            f"pixels 0..255); with D = {D} they underfit: try e.g. learning_rate=1e-3, reg=0.1 for digits "
            "(what `steepest tour` uses), or tune them on the validation set"
        )

    def __repr__(self) -> str:
        hint = self.scale_hint()
        return str(self) + (f"\n{hint}" if hint else "")


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
        return [
            (float(s), float(l), float(l - self.loss0), i == self.best_index)
            for i, (s, l) in enumerate(zip(self.steps, self.losses))
        ]

    def lines(self) -> list[str]:
        """The notes' printout, one line per step."""
        return ["for step size %e new loss: %f" % (s, l) for s, l in zip(self.steps, self.losses)]

    def __str__(self) -> str:
        rows = [
            (f"{s:.0e}" if s == float(f"{s:.0e}") else f"{s:.3e}", l, d, "<- best" if b else "")
            for s, l, d, b in self.rows()
        ]
        return table(
            ["step size", "new loss", "change", "best"],
            rows,
            title=f"step-size sweep from loss {self.loss0:.6g} "
            f"({self.method}, backend {self.backend}, {self.elapsed:.3g} s)",
        )

    __repr__ = __str__  # the table at the REPL, not the arrays

    def as_dict(self) -> dict:
        return {
            "steps": self.steps.tolist(),
            "losses": self.losses.tolist(),
            "loss0": self.loss0,
            "best_step": self.best_step,
            "best_loss": self.best_loss,
            "nfev": self.nfev,
            "ngev": self.ngev,
            "elapsed": self.elapsed,
            "backend": self.backend,
            "method": self.method,
        }
