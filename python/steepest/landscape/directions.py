"""Directions in weight space: random directions, centred grids, and projections onto a plane."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validate
from .checks import check_direction, check_trajectory


def random_direction(
    shape_or_W: Any, seed: Any = None, normalize: str | None = None, *, dtype: Any = None
) -> np.ndarray:
    """A Gaussian direction: entries drawn i.i.d. from N(0, 1) (zero mean), shape (C, D).

    ``shape_or_W`` is a shape ``(C, D)`` or the weights W (then the result has W's dtype).
    ``normalize="row"`` rescales each class row of the direction to the norm of the matching row of W
    (the filter normalization of Li et al. for a linear model; needs W; zero rows of W give zero rows).
    ``seed``: int or ``numpy.random.Generator``; the draw is made in float64, so one seed gives the
    same direction on every backend and in both dtypes (up to the final rounding to float32).
    ``dtype`` defaults to W's dtype, or float64 for a shape.
    """
    W = None
    if isinstance(shape_or_W, np.ndarray):
        W = _validate.float_array(shape_or_W, "shape_or_W", 2)
        shape = W.shape
    elif isinstance(shape_or_W, (tuple, list)):
        if len(shape_or_W) != 2:
            raise ValueError(
                f"shape_or_W must be a shape (C, D) or the weights W; got a shape of length {len(shape_or_W)}"
            )
        shape = tuple(_validate.integer(v, "shape_or_W", low=1) for v in shape_or_W)
    else:
        raise TypeError(
            f"shape_or_W must be a shape (C, D) or the weights W (numpy.ndarray); got {type(shape_or_W).__name__}"
        )
    if normalize is not None:
        _validate.choice(normalize, "normalize", ("row",))
        if W is None:
            raise ValueError("normalize='row' scales the direction to the rows of W: pass W, not a shape")
        if not np.any(W):  # refused before a draw moves the caller's generator
            raise ValueError("normalize='row' needs W with a nonzero row; W is all zeros")
    if dtype is None:
        out_dtype = W.dtype if W is not None else np.dtype(np.float64)
    else:
        out_dtype = _validate.float_dtype(dtype)
    rng = _validate.rng(seed)
    d = rng.standard_normal(shape)
    if normalize == "row":
        w_norms = np.linalg.norm(W.astype(np.float64), axis=1)
        d *= (w_norms / np.linalg.norm(d, axis=1))[:, None]
    return d.astype(out_dtype)


def project_onto_plane(weights: Sequence[Any], W: Any, d1: Any, d2: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares coordinates of each ``V`` in ``weights`` on the plane ``W + a d1 + b d2``.

    Returns ``(alphas, betas, residuals)``: ``(a, b)`` minimise ``||V - W - a d1 - b d2||`` (Frobenius)
    and ``residuals`` is that distance (how far the weights are from the plane). float64.
    """
    W = _validate.float_array(W, "W", 2)
    d1 = check_direction(d1, W, "d1")
    d2 = check_direction(d2, W, "d2")
    weights = check_trajectory(weights, W, "weights")
    A = np.stack([d1.astype(np.float64).ravel(), d2.astype(np.float64).ravel()], axis=1)
    if np.linalg.matrix_rank(A) < 2:
        raise ValueError("d1 and d2 must not be parallel: they do not span a plane")
    base = W.astype(np.float64).ravel()
    V = np.stack([Vk.astype(np.float64).ravel() - base for Vk in weights], axis=1)
    coef, *_ = np.linalg.lstsq(A, V, rcond=None)
    residuals = np.linalg.norm(V - A @ coef, axis=0)
    return coef[0].copy(), coef[1].copy(), residuals
