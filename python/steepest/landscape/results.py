"""The results of landscape calls: a line, a plane, an exact line minimum (immutable, printable, drawable)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._table import key_values
from .directions import project_onto_plane


def frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True)
class LineMinimum:
    """The exact minimum of the SVM loss along ``W + alpha * direction`` for ``alpha`` in ``bounds``.

    ``alpha`` is the minimiser (when the minimum is attained on a flat piece, the point of that piece
    closest to 0, i.e. to W), ``loss`` the loss there, ``loss_at_zero`` the loss at W itself,
    ``n_breakpoints`` the number of hinge kinks on the whole line (``K``; cost O(K log K)).
    For an exact line search along ``-dW``, ``step`` is the same number as ``alpha``.
    """

    alpha: float
    loss: float
    loss_at_zero: float
    n_breakpoints: int
    bounds: tuple[float, float]

    @property
    def step(self) -> float:
        return self.alpha

    @property
    def decrease(self) -> float:
        """``loss_at_zero - loss`` (>= 0)."""
        return self.loss_at_zero - self.loss

    def __str__(self) -> str:
        return key_values(
            [
                ("minimiser alpha", self.alpha),
                ("loss there", self.loss),
                ("loss at alpha = 0", self.loss_at_zero),
                ("decrease", self.decrease),
                ("breakpoints on the line", self.n_breakpoints),
                ("bounds", f"[{self.bounds[0]:g}, {self.bounds[1]:g}]"),
            ],
            title="exact SVM line minimum",
        )

    def __repr__(self) -> str:  # the summary at the REPL, not the arrays
        return str(self)


@dataclasses.dataclass(frozen=True)
class LineSlice:
    """The loss along ``W + alpha * direction``: ``losses[k]`` at ``alphas[k]`` (float64, read-only).

    For the SVM also ``breakpoints`` (the kinks inside ``[alphas[0], alphas[-1]]``, sorted) and
    ``minimum`` (the exact minimum over that interval, a :class:`LineMinimum`); ``None`` for softmax.
    """

    alphas: np.ndarray
    losses: np.ndarray
    loss_name: str
    n_examples: int
    reg: float
    breakpoints: np.ndarray | None = None
    minimum: LineMinimum | None = None

    @property
    def grid_minimum(self) -> tuple[float, float]:
        """``(alpha, loss)`` of the lowest sampled point."""
        k = int(np.argmin(self.losses))
        return float(self.alphas[k]), float(self.losses[k])

    def __str__(self) -> str:
        a, v = self.grid_minimum
        pairs = [
            ("loss", f"{self.loss_name} (reg {self.reg:g})"),
            ("examples", self.n_examples),
            ("grid", f"{len(self.alphas)} points in [{self.alphas[0]:g}, {self.alphas[-1]:g}]"),
            ("lowest grid point", f"alpha = {a:.6g}, loss = {v:.6g}"),
            ("highest grid loss", float(self.losses.max())),
        ]
        if self.minimum is not None:
            pairs += [
                ("breakpoints in range", len(self.breakpoints)),
                ("exact minimum", f"alpha = {self.minimum.alpha:.6g}, loss = {self.minimum.loss:.6g}"),
            ]
        return key_values(pairs, title="loss along a line")

    def __repr__(self) -> str:  # the summary at the REPL, not the arrays
        return str(self)

    def plot(self, ax: Any = None, *, path: Any = None, title: str | None = None) -> Any:
        """Draw the curve (breakpoints and the exact minimum marked for the SVM); returns the Figure.

        Needs matplotlib (``pip install steepest[plot]``); saved as PNG when ``path`` is given.
        """
        from . import plots

        return plots.plot_line(self, ax=ax, path=path, title=title)


@dataclasses.dataclass(frozen=True)
class PlaneSlice:
    """The loss on ``W + alpha * d1 + beta * d2``: ``losses[i, j]`` at ``(alphas[i], betas[j])``.

    ``W``, ``d1``, ``d2`` are kept (read-only copies) so weights can be projected onto the plane.
    """

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    loss_name: str
    n_examples: int
    reg: float
    W: np.ndarray = dataclasses.field(repr=False)
    d1: np.ndarray = dataclasses.field(repr=False)
    d2: np.ndarray = dataclasses.field(repr=False)

    @property
    def grid_minimum(self) -> tuple[float, float, float]:
        """``(alpha, beta, loss)`` of the lowest sampled point."""
        i, j = np.unravel_index(int(np.argmin(self.losses)), self.losses.shape)
        return float(self.alphas[i]), float(self.betas[j]), float(self.losses[i, j])

    def project(self, weights: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates of weights on this plane: see :func:`project_onto_plane`."""
        return project_onto_plane(weights, self.W, self.d1, self.d2)

    def __str__(self) -> str:
        a, b, v = self.grid_minimum
        return key_values(
            [
                ("loss", f"{self.loss_name} (reg {self.reg:g})"),
                ("examples", self.n_examples),
                (
                    "grid",
                    f"{len(self.alphas)} x {len(self.betas)} in [{self.alphas[0]:g}, {self.alphas[-1]:g}]"
                    f" x [{self.betas[0]:g}, {self.betas[-1]:g}]",
                ),
                ("lowest grid point", f"alpha = {a:.6g}, beta = {b:.6g}, loss = {v:.6g}"),
                ("highest grid loss", float(self.losses.max())),
            ],
            title="loss on a plane",
        )

    def __repr__(self) -> str:  # the summary at the REPL, not the arrays
        return str(self)

    def plot(
        self,
        ax: Any = None,
        *,
        path: Any = None,
        trajectory: Sequence[Any] | None = None,
        cmap: str = "jet",
        levels: int = 12,
        title: str | None = None,
    ) -> Any:
        """Heat map (blue low, red high) with contour lines; returns the Figure.

        ``trajectory``: a sequence of weights (C, D) drawn as a path, projected onto the plane by least
        squares. Needs matplotlib (``pip install steepest[plot]``); saved as PNG when ``path`` is given.
        """
        from . import plots

        return plots.plot_plane(self, ax=ax, path=path, trajectory=trajectory, cmap=cmap, levels=levels, title=title)
