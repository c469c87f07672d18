"""The loss along a line and on a plane through weight space, from one pass over the data.

The scores are linear in W: S(W + a d1 + b d2) = S0 + a S1 + b S2, so one stacked product gives
S0, S1, S2 and every grid point then costs O(C N) in the backend's grid kernel; the regularizer is
added exactly from the inner products of W and the directions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..losses import LinearLoss
from .checks import (
    LINE_POINTS,
    PLANE_POINTS,
    centered_grid,
    check_direction,
    check_grid,
    check_loss,
    checked_scores,
)
from .results import LineSlice, PlaneSlice, frozen
from .svm_line import SVMLine, inner

MAX_BREAKPOINTS_KEPT = 1_000_000  # a LineSlice keeps at most this many breakpoints (the sorted kinks)


def reg_term(reg: float, quad):
    """``reg * quad``; exactly zero when reg is zero (also where quad overflowed)."""
    return reg * quad if reg else np.zeros_like(quad)


def finite_grid(out: np.ndarray, loss: LinearLoss) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(
            f"the {loss.name} loss is not finite on part of the grid: the scores overflowed; use a smaller "
            "grid span (alphas, betas) or a shorter direction"
        )
    return out


def loss_along_line(loss: Any, W: Any, direction: Any, alphas: Any = None) -> LineSlice:
    """The loss at ``W + alpha * direction`` for every ``alpha`` (default 101 points in [-1, 1]).

    ``loss`` is an :class:`~steepest.SVMLoss` or :class:`~steepest.SoftmaxLoss` on any subset of
    examples (``loss.subset(idx)``); its ``reg`` is included. ``direction`` has W's shape and dtype.
    Cost: one pass over the loss's examples (``S0 = W X`` and ``S1 = direction X`` together, as one
    (2C, D) product), then O(C * N) per point. For the SVM the result also holds the breakpoints inside
    the grid's range and the exact
    minimum over it (O(K log K), K kinks). Raises TypeError / ValueError naming the bad argument, and
    FloatingPointError when the scores overflow.
    """
    loss = check_loss(loss)
    W = loss.check_weights(W)
    d = check_direction(direction, W, "direction")
    alphas = check_grid(alphas, "alphas", centered_grid(LINE_POINTS))
    S0, S1 = checked_scores(loss, (W, "W"), (d, "direction"))
    q0, q1, q2 = inner(W, W), inner(W, d), inner(d, d)
    data = loss.data_loss_grid(S0, S1, None, alphas, np.zeros(1))[:, 0]
    with np.errstate(all="ignore"):  # overflow is reported by finite_grid
        losses = finite_grid(data + reg_term(loss.reg, q0 + alphas * (2.0 * q1 + alphas * q2)), loss)
    breakpoints = minimum = None
    if loss.has_exact_line:
        line = SVMLine(S0, S1, loss.labels, loss.margin, loss.reg, q0, q1, q2)
        kinks = line.kinks()
        breakpoints = kinks[(kinks >= alphas[0]) & (kinks <= alphas[-1])][:MAX_BREAKPOINTS_KEPT]
        minimum = line.minimum((float(alphas[0]), float(alphas[-1])))
    return LineSlice(frozen(alphas), frozen(losses), loss.name, loss.n, loss.reg, frozen(breakpoints), minimum)


def loss_on_plane(loss: Any, W: Any, d1: Any, d2: Any, alphas: Any = None, betas: Any = None) -> PlaneSlice:
    """The loss at ``W + alpha * d1 + beta * d2`` on a grid (default 51 x 51 in [-1, 1]^2).

    ``losses[i, j]`` is at ``(alphas[i], betas[j])``. Cost: one pass over the loss's examples
    (``S0 = W X``, ``S1 = d1 X``, ``S2 = d2 X`` as one (3C, D) product), then O(C * N) per grid point;
    the regularizer is
    added exactly from the six inner products of W, d1, d2. Raises like :func:`loss_along_line`.
    """
    loss = check_loss(loss)
    W = loss.check_weights(W)
    d1 = check_direction(d1, W, "d1")
    d2 = check_direction(d2, W, "d2")
    alphas = check_grid(alphas, "alphas", centered_grid(PLANE_POINTS))
    betas = check_grid(betas, "betas", centered_grid(PLANE_POINTS))
    S0, S1, S2 = checked_scores(loss, (W, "W"), (d1, "d1"), (d2, "d2"))
    data = loss.data_loss_grid(S0, S1, S2, alphas, betas)
    a, b = alphas[:, None], betas[None, :]
    with np.errstate(all="ignore"):  # overflow is reported by finite_grid
        quad = (
            inner(W, W)
            + a * (2.0 * inner(W, d1) + a * inner(d1, d1))
            + b * (2.0 * inner(W, d2) + b * inner(d2, d2))
            + 2.0 * a * b * inner(d1, d2)
        )
        losses = finite_grid(data + reg_term(loss.reg, quad), loss)
    return PlaneSlice(
        frozen(alphas), frozen(betas), frozen(losses), loss.name, loss.n, loss.reg, frozen(W), frozen(d1), frozen(d2)
    )
