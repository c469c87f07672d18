"""Row data to what the losses take: mean-subtracted, a bias feature, one example per column; seeded splits."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate
from .._validate import float_dtype
from .arrays import center, rows_view


def preprocess(X_train: Any, *others: Any, dtype: Any = np.float64, bias: bool = True, layout: str = "columns") -> Any:
    """Mean-subtract with the training mean, append the bias feature, cast, and lay out as (D, N).

    Each input has one example per row, of any shape after the first axis (images (n, 32, 32, 3)
    are flattened to (n, 3072)) and any integer or float dtype. The mean of ``X_train`` is computed
    in float64 and subtracted from every set (never each set's own mean); with ``bias=True`` a
    constant-1 feature is appended last. ``layout="columns"`` (default) returns (D, N) arrays, one
    example per column as the losses take them, F-ordered (each example contiguous: the transpose
    of the (N, D) rows, the fastest order for the kernels); ``layout="rows"`` returns (N, D).

    Returns one array when only ``X_train`` is given, else a tuple (train, *others), like
    ``np.atleast_2d``. Inputs are never modified (read-only arrays and memmaps are fine); an input
    whose rows cannot be viewed as flat vectors (unusual strides) is copied once by the reshape.
    Float inputs must be finite (ValueError naming the row and feature). One pass over each input,
    in blocks of examples written straight into the result: the only large allocation.
    """
    dt = float_dtype(dtype)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool; got {type(bias).__name__}")
    if not isinstance(layout, str) or layout not in ("columns", "rows"):
        raise ValueError(f"layout must be 'columns' (D, N) or 'rows' (N, D); got {layout!r}")
    train = rows_view(X_train, "X_train")
    sets = [train] + [rows_view(o, f"others[{i}]") for i, o in enumerate(others)]
    F = train.shape[1]
    for i, s in enumerate(sets[1:]):
        if s.shape[1] != F:
            raise ValueError(
                f"others[{i}] must have {F} features per example like X_train; "
                f"got {s.shape[1]} (shape {others[i].shape})"
            )
    with np.errstate(over="ignore", invalid="ignore"):
        mean = train.mean(axis=0, dtype=np.float64)
    if not np.isfinite(mean).all():
        _validate.finite(train, "X_train")
        raise ValueError("X_train's mean is not finite: its values are too large for float64")
    names = ["X_train"] + [f"others[{i}]" for i in range(len(others))]
    out = tuple(center(s, mean, dt, bool(bias), layout, name) for s, name in zip(sets, names))
    return out[0] if not others else out


def split(X: Any, y: Any, n_train: int, n_val: int, n_test: int = 0, seed: Any = 0) -> tuple[np.ndarray, ...]:
    """Seeded train / validation / test pieces of row data (one example per row of ``X``).

    Draws one permutation of the n examples (from ``seed``: int or Generator) and assigns its first
    ``n_train`` to train, the next ``n_val`` to validation and the next ``n_test`` to test; the
    pieces are disjoint and each keeps the original order of its examples. Returns
    ``(X_train, y_train, X_val, y_val, X_test, y_test)`` (always six; a piece of size 0 is empty),
    copies of the rows. The CS231n assignment uses 49,000 / 1,000 of CIFAR-10's training set (and
    1,000 of its test set).
    """
    if not isinstance(X, np.ndarray) or X.ndim < 1:
        raise TypeError(f"X must be a numpy.ndarray with one example per row; got {type(X).__name__}")
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.ndim != 1:
        what = f"dtype {y.dtype} shape {y.shape}" if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(f"y must be a 1-D numpy.ndarray of integer labels; got {what}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must hold the same number of examples; got {n} rows in X and {len(y)} labels")
    n_train = _validate.integer(n_train, "n_train", low=1)
    n_val = _validate.integer(n_val, "n_val", low=0)
    n_test = _validate.integer(n_test, "n_test", low=0)
    if n_train + n_val + n_test > n:
        raise ValueError(
            f"n_train + n_val + n_test must be <= {n} (the examples in X); got {n_train} + {n_val} + {n_test}"
        )
    perm = _validate.rng(seed).permutation(n)
    cuts = np.cumsum([0, n_train, n_val, n_test])
    out: list[np.ndarray] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        idx = np.sort(perm[a:b])
        out += [X[idx], y[idx].astype(np.int64)]
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# DataSplit and load_dataset
# --------------------------------------------------------------------------------------------------
