"""Argument checks in the assignment's layout: ``W`` (D, C), ``X`` (N, D) one example per row.

Built on :mod:`steepest._validate` (same kinds of error, same message form: the argument, what was
expected, what was got, the fix). What is added is the layout: a weight matrix or a data matrix handed
over in steepest's own layout (``W`` (C, D), ``X`` (D, N)) is recognised and named as such.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate

LAYOUT = "the assignment's layout: W (D, C), one column per class; X (N, D), one example per row"


def rows(X: Any, name: str = "X") -> np.ndarray:
    """A 2-D float32/float64 data matrix (N, D), kept in place (its finiteness is checked by the kernels'
    results, not by a pass of its own)."""
    return _validate.float_array(X, name, 2, check_finite=False)


def labels(y: Any, X: np.ndarray, classes: int | None = None, name: str = "y") -> np.ndarray:
    """Integer labels, one per row of ``X``, in [0, classes) (any int >= 0 when ``classes`` is None)."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu" and len(y) != X.shape[0]:
        hint = ""
        if len(y) == X.shape[1]:
            hint = f"; did you pass X as (D, N)? in {LAYOUT}, pass X.T"
        raise ValueError(
            f"{name} must have one label per row of X (N = {X.shape[0]}); got length {len(y)} for X {X.shape}{hint}"
        )
    return _validate.labels(y, X.shape[0], classes, name)


def classes_of(y: np.ndarray, name: str = "y") -> int:
    """``np.max(y) + 1``, the assignment's number of classes; at least 2."""
    c = int(np.max(y)) + 1
    if c < 2:
        raise ValueError(
            f"{name} must hold at least 2 classes (labels 0 .. C-1, C = np.max({name}) + 1); "
            f"its largest label is {c - 1}"
        )
    return c


def weights(W: Any, X: np.ndarray, name: str = "W", *, check_finite: bool = True) -> np.ndarray:
    """``W`` (D, C) for data ``X`` (N, D): same float dtype, D rows, at least 2 columns."""
    W = _validate.float_array(W, name, 2, check_finite=check_finite)
    if W.dtype != X.dtype:
        raise TypeError(
            f"{name} and X must share a dtype; got {name} {W.dtype} and X {X.dtype} (cast one with .astype)"
        )
    D = X.shape[1]
    if W.shape[0] != D:
        if W.shape[1] == D:
            raise ValueError(
                f"{name} must be (D, C) = ({D}, {W.shape[0]}) in {LAYOUT}; got {name} {W.shape}, which is steepest's "
                f"(C, D) layout: pass {name}.T"
            )
        if W.shape[0] == X.shape[0]:
            raise ValueError(
                f"X must be (N, D) in {LAYOUT}; got X {X.shape} with {name} {W.shape}: did you pass X as (D, N)? "
                "use X.T"
            )
        raise ValueError(f"{name}.shape[0] must equal X.shape[1] (D = {D}); got {name} {W.shape} and X {X.shape}")
    if W.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 columns (classes); got shape {W.shape}")
    return W


def problem(W: Any, X: Any, y: Any, reg: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The arguments of a loss function, checked in their order: W, X, y, reg."""
    _validate.float_array(W, "W", 2)
    X = rows(X)
    W = weights(W, X)
    y = labels(y, X, W.shape[1])
    return W, X, y, _validate.reg(reg)


def to_steepest(W: np.ndarray) -> np.ndarray:
    """``W`` (D, C) as the kernels' C-contiguous (C, D) (W is small: a copy is cheap)."""
    return np.ascontiguousarray(W.T)


def from_steepest(W_cd: np.ndarray) -> np.ndarray:
    """A (C, D) result back as a C-contiguous (D, C) array, as the assignment's NumPy code returns it."""
    return np.ascontiguousarray(W_cd.T)
