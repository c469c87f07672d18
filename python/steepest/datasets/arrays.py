"""Array helpers behind ``steepest.datasets``: row views of inputs, the synthetic generator, centring.

Private; the public functions and their documentation are in ``steepest/datasets/__init__.py``. Argument checks
are ``steepest._validate``'s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _validate


def rows_view(a: Any, name: str) -> np.ndarray:
    """A numeric ndarray with examples along axis 0, viewed as (n, features) without copying."""
    if not isinstance(a, np.ndarray) or isinstance(a, (np.matrix, np.ma.MaskedArray)):
        raise TypeError(f"{name} must be a numpy.ndarray of numbers; got {type(a).__name__}")
    if a.dtype.kind not in "uif":
        raise TypeError(f"{name} must hold integers or floats (e.g. uint8 pixels); got dtype {a.dtype}")
    if a.ndim < 2:
        raise ValueError(
            f"{name} must have one example per row, shape (n, ...) with at least 2 dimensions; got shape {a.shape}"
        )
    if a.shape[0] == 0 or a[0].size == 0:
        raise ValueError(f"{name} must not be empty; got shape {a.shape}")
    return a.reshape(a.shape[0], -1)


def synthetic(
    n: int, d: int, c: int, seed: int, dtype: np.dtype, part: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """``make_synthetic``'s data from example stream ``part`` (arguments already checked)."""
    # The hidden model depends on (seed, d, c) only; examples come from stream `part`, so the
    # train / validation / test sets of load_dataset share one model.
    model = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    draw = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, part)))
    f = d - 1
    k = min(32, f)
    # Features x = A z + e: half the variance in k latent directions (as in images, where a few
    # directions carry most of it), half isotropic noise e. The noise is uniform, not Gaussian:
    # uniform draws cost a quarter of normal ones, and they dominate the time.
    A = model.standard_normal((f, k)) * math.sqrt(0.5 / k)
    W_true = model.standard_normal((c, k)) @ A.T
    Z = draw.standard_normal((k, n))
    X = np.empty((d, n), dtype=dtype)
    S = np.zeros((c, n))
    half_width = math.sqrt(12 * 0.5) / 2  # uniform on [-w, w] with variance 1/2
    rows = max(1, (1 << 21) // max(n, 1))  # blocks of about 2 M entries: no (d, n) temporary
    for r in range(0, f, rows):
        blk = X[r : min(r + rows, f)]
        draw.random(out=blk, dtype=dtype)
        blk -= 0.5
        blk *= 2 * half_width
        blk += A[r : r + len(blk)] @ Z
        S += W_true[:, r : r + len(blk)] @ blk
    X[f] = 1
    if n == 0:
        return X, np.zeros(0, dtype=np.int64)
    S /= max(float(S.std()), np.finfo(np.float64).tiny)
    S += noise * draw.standard_normal((c, n))
    return X, np.argmax(S, axis=0).astype(np.int64)


def center(rows: np.ndarray, mean: np.ndarray, dt: np.dtype, bias: bool, layout: str, name: str) -> np.ndarray:
    """(rows - mean) in float64, rounded once to ``dt``, plus the bias feature, in one pass over rows.

    Built as (N, D) rows; ``layout="columns"`` returns their transpose, the (D, N) F-ordered view in
    which every example is a contiguous column (the fastest order for every backend's kernels).
    """
    n, F = rows.shape
    D = F + bias
    floats = rows.dtype.kind == "f"  # integer pixels are finite
    out = np.empty((n, D), dtype=dt)
    step = max(1, (1 << 19) // F)  # examples per block; the ufunc writes straight into the result
    for j in range(0, n, step):
        blk = rows[j : j + step]
        if floats and not _validate.all_finite(blk):
            _validate.finite(rows, name)  # the message names the first bad entry of the whole input
        # Computed in float64 (the float64 loop), rounded once into `out` when dtype is float32.
        np.subtract(blk, mean, out=out[j : j + len(blk), :F], dtype=np.float64, casting="same_kind")
    if bias:
        out[:, F] = 1
    return out.T if layout == "columns" else out
