"""Argument checks shared by the landscape functions (one message form: argument, expected, got)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _validate
from ..losses import LinearLoss

LINE_POINTS = 101
PLANE_POINTS = 51


def check_loss(loss: Any) -> LinearLoss:
    if not isinstance(loss, LinearLoss):
        raise TypeError(f"loss must be a steepest.SVMLoss or steepest.SoftmaxLoss; got {type(loss).__name__}")
    return loss


def check_direction(d: Any, W: np.ndarray, name: str) -> np.ndarray:
    """A direction of W's shape and dtype, finite and not all zeros (C-contiguous)."""
    d = _validate.float_array(d, name, 2)
    if d.dtype != W.dtype:
        raise TypeError(f"{name} must have W's dtype {W.dtype}; got {d.dtype} (cast it with {name}.astype(W.dtype))")
    if d.shape != W.shape:
        hint = f" (did you pass {name}.T?)" if d.shape == W.shape[::-1] else ""
        raise ValueError(f"{name} must have W's shape {W.shape}; got {d.shape}{hint}")
    if not np.any(d):
        raise ValueError(f"{name} must not be all zeros (a direction needs a length)")
    return _validate.weights(d)


def check_grid(values: Any, name: str, default: np.ndarray) -> np.ndarray:
    """A non-empty, finite, strictly increasing 1-D grid of real numbers, as float64."""
    if values is None:
        return default
    if isinstance(values, (list, tuple, range)):
        try:
            values = np.asarray(values)
        except ValueError:
            raise TypeError(
                f"{name} must be a 1-D sequence of real numbers; got a ragged {type(values).__name__}"
            ) from None
    if not isinstance(values, np.ndarray) or isinstance(values, np.matrix) or isinstance(values, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a 1-D numpy array (or list) of real numbers; got {type(values).__name__}")
    if values.dtype == np.bool_ or values.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float); got dtype {values.dtype}")
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {values.shape}")
    if values.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    grid = np.ascontiguousarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(grid))
    if len(bad):
        raise ValueError(f"{name} must be finite; {name}[{int(bad[0])}] = {grid[bad[0]]}")
    if len(grid) > 1 and not np.all(np.diff(grid) > 0):
        k = int(np.flatnonzero(np.diff(grid) <= 0)[0])
        raise ValueError(
            f"{name} must be strictly increasing; {name}[{k}] = {grid[k]:g} >= {name}[{k + 1}] = {grid[k + 1]:g}"
        )
    return grid


def check_bounds(bounds: Any) -> tuple[float, float]:
    if bounds is None:
        return (-math.inf, math.inf)
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be None or a pair (low, high); got {type(bounds).__name__}")
    out = []
    for value, what in zip(bounds, ("low", "high")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"bounds ({what}) must be a real number; got {type(value).__name__}")
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"bounds ({what}) must not be NaN")
        out.append(value)
    lo, hi = out
    if lo > hi:
        raise ValueError(f"bounds must satisfy low <= high; got ({lo:g}, {hi:g})")
    if lo == math.inf or hi == -math.inf:
        raise ValueError(f"bounds must contain a finite number; got ({lo:g}, {hi:g})")
    return lo, hi


def check_trajectory(trajectory: Any, W: np.ndarray, name: str = "trajectory") -> list | None:
    """None, or a non-empty sequence of weights of W's shape (finite floats), as a list."""
    if trajectory is None:
        return None
    if isinstance(trajectory, np.ndarray) and trajectory.ndim == 2:
        raise TypeError(f"{name} must be a sequence of weight matrices (a list, or a 3-D array); got one 2-D array")
    if not isinstance(trajectory, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of weight matrices {W.shape}; got {type(trajectory).__name__}")
    if len(trajectory) == 0:
        raise ValueError(f"{name} must not be empty")
    steps = []
    for k, V in enumerate(trajectory):
        V = _validate.float_array(V, f"{name}[{k}]", 2)
        if V.shape != W.shape:
            hint = f" (did you pass {name}[{k}].T?)" if V.shape == W.shape[::-1] else ""
            raise ValueError(f"{name}[{k}] must have W's shape {W.shape}; got {V.shape}{hint}")
        steps.append(V)
    return steps


def checked_scores(loss: LinearLoss, *named: tuple[np.ndarray, str]) -> list[np.ndarray]:
    """``M @ X`` for every ``(M, name)`` in one pass, refused with FloatingPointError naming the first
    that overflowed (the grid kernels would read NaN scores differently: numba's hinge takes them as 0)."""
    scores = loss.stacked_scores(*(M for M, _ in named))
    for S, (_, what) in zip(scores, named):
        if not _validate.all_finite(S):
            raise FloatingPointError(f"the scores {what} @ X overflowed; scale {what} or X down")
    return scores


def centered_grid(points: int, span: float = 1.0) -> np.ndarray:
    """``points`` evenly spaced numbers from ``-span`` to ``span`` (float64; odd counts include 0)."""
    points = _validate.integer(points, "points", low=1)
    span = _validate.positive(span, "span")
    if points == 1:
        return np.zeros(1)
    return np.linspace(-span, span, points)
