"""The notes' three-panel landscape figure (a line, a plane for one example, a plane for many)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validate
from ..losses import LinearLoss
from .checks import (
    LINE_POINTS,
    PLANE_POINTS,
    centered_grid,
    check_direction,
    check_loss,
    check_trajectory,
    checked_scores,
)
from .directions import random_direction
from .slices import loss_along_line, loss_on_plane
from .svm_line import SVMLine


def auto_span(loss: LinearLoss, W: np.ndarray, d: np.ndarray) -> float:
    """A span showing most of the hinge kinks of these examples: twice their median distance to W.

    (With delta = 1 margins for the softmax, as a scale.) Rounded to two significant digits.
    """
    loss = check_loss(loss)
    W = loss.check_weights(W)
    d = check_direction(d, W, "d")
    return _auto_span(loss, W, d)


def _auto_span(loss: LinearLoss, W: np.ndarray, d: np.ndarray) -> float:
    line = SVMLine(*checked_scores(loss, (W, "W"), (d, "d")), loss.labels, loss.margin, 0.0, 0.0, 0.0, 0.0)
    k = np.abs(line.k)
    k = k[k > 0]
    if not len(k):
        return 1.0
    span = 2.0 * float(np.median(k))
    return float(f"{span:.2g}")


def plot_notes_figure(
    loss: Any,
    W: Any,
    seed: Any = 0,
    *,
    reg: float | None = 0.0,
    example: int = 0,
    examples: int = 100,
    span: float | None = None,
    line_points: int = LINE_POINTS,
    plane_points: int = PLANE_POINTS,
    normalize: str | None = None,
    trajectory: Sequence[Any] | None = None,
    path: Any = None,
    cmap: str = "jet",
) -> Any:
    """The notes' three-panel figure: the loss along a random line for one example, on a random plane
    for one example, and on the same plane averaged over ``examples`` examples (the first ones).

    ``reg=0.0`` draws the data loss only, as the notes do (``None`` keeps the loss's own ``reg``).
    Directions come from :func:`random_direction` with ``seed`` (``normalize`` passed on). ``span``
    (default: chosen so most kinks show, see :func:`auto_span`) sets the grids ``[-span, span]``.
    ``trajectory``: weights to draw on the averaged plane. Returns the matplotlib Figure (PNG at
    ``path``). Needs matplotlib (``pip install steepest[plot]``).
    """
    from . import plots

    plots.require_matplotlib()
    loss = check_loss(loss)
    W = loss.check_weights(W)
    if reg is not None:
        loss = loss.with_reg(reg)
    example = _validate.integer(example, "example", low=0, high=loss.n - 1)
    examples = _validate.integer(examples, "examples", low=1)
    if span is not None:
        span = _validate.positive(span, "span")
    line_points = _validate.integer(line_points, "line_points", low=2)
    plane_points = _validate.integer(plane_points, "plane_points", low=2)
    trajectory = check_trajectory(trajectory, W)
    path = None if path is None else _validate.file_path(path, "path")
    cmap = plots.check_cmap(cmap)
    rng = _validate.rng(seed)
    d1 = random_direction(W, rng, normalize)
    d2 = random_direction(W, rng, normalize)
    one = loss.subset(np.array([example]))
    many = loss.subset(np.arange(min(examples, loss.n)))
    if span is None:
        span = _auto_span(many, W, d1)
    line = loss_along_line(one, W, d1, centered_grid(line_points, span))
    grid = centered_grid(plane_points, span)
    plane_one = loss_on_plane(one, W, d1, d2, grid, grid)
    plane_many = loss_on_plane(many, W, d1, d2, grid, grid)
    return plots.plot_notes(line, plane_one, plane_many, trajectory=trajectory, path=path, cmap=cmap)
