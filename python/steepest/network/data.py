"""The network's data: the book's forms (one-hot columns, lists of ``(x, y)`` pairs) and the array form.

:func:`vectorized_result`, :func:`mnist_for_network` and :func:`to_pairs` are public. ``_as_data`` turns either form
of a data set into a :class:`_Data` (rows, targets, labels), checking it before any work starts; every method of
:class:`~steepest.network.Network` that takes data goes through it.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from .. import _validate
from .._validate import describe


def vectorized_result(j: int, n_out: int = 10, dtype: Any = np.float64) -> np.ndarray:
    """The one-hot (n_out, 1) column with a 1 in position ``j`` (the book's helper)."""
    n_out = _validate.integer(n_out, "n_out", low=1)
    j = _validate.integer(j, "j", low=0, high=n_out - 1)
    e = np.zeros((n_out, 1), dtype=_validate.float_dtype(dtype))
    e[j] = 1.0
    return e


def mnist_for_network(images: Any, labels: Any, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Convert ``load_mnist`` output to the network's array form.

    ``images`` uint8 (N, 784) and ``labels`` integer (N,) become ``X`` of shape (784, N) in the
    requested float dtype with values ``images / 255`` in [0, 1], and ``y`` int64 (N,). ``X`` is the
    transpose of a C-contiguous (N, 784) array, the layout whose mini-batches are contiguous rows.
    One pass over the images; the result is a new array (``images`` is not modified).
    """
    dtype = _validate.float_dtype(dtype)
    images = _validate.ndarray(images, "images", "uint8 pixels")
    labels = _validate.ndarray(labels, "labels", "integer labels")
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 pixels (as load_mnist returns); got dtype {images.dtype}")
    if images.ndim == 3:
        images = images.reshape(images.shape[0], -1)
    if images.ndim != 2:
        raise ValueError(f"images must have shape (N, 784) or (N, 28, 28); got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must have shape ({images.shape[0]},) to match images; got {labels.shape}")
    y = _validate.labels(labels, images.shape[0], 10, "labels")
    rows = np.multiply(images, dtype.type(1.0 / 255.0), dtype=dtype)
    return rows.T, y.copy()


def to_pairs(X: Any, y: Any, one_hot: bool = True, n_out: int = 10) -> list[tuple[np.ndarray, Any]]:
    """The book's data form: a list of ``(x, y)`` with ``x`` a (D, 1) column of ``X`` (D, N).

    ``one_hot=True`` (training data) makes each ``y`` a one-hot (n_out, 1) column in X's dtype;
    ``False`` (test data) keeps the ``int`` label. Labels must lie in [0, n_out). The columns are
    copies.
    """
    X = _validate.ndarray(X, "X", "floats")
    y = _validate.ndarray(y, "y", "integer labels")
    if X.ndim != 2 or y.ndim != 1 or y.shape[0] != X.shape[1]:
        raise ValueError(f"X must be (D, N) and y (N,) with the same N; got {X.shape} and {y.shape}")
    if X.dtype.kind != "f":
        raise TypeError(f"X must be a float array; got dtype {X.dtype}")
    one_hot = _validate.boolean(one_hot, "one_hot")
    n_out = _validate.integer(n_out, "n_out", low=1)
    y = _validate.labels(y, X.shape[1], n_out, "y")
    out = []
    for i in range(X.shape[1]):
        x = X[:, i : i + 1].copy()
        out.append((x, vectorized_result(int(y[i]), n_out, X.dtype) if one_hot else int(y[i])))
    return out


@dataclasses.dataclass
class _Data:
    """A validated data set: ``rows`` (N, D) view (any strides), ``targets`` (N, C) C-contiguous
    (training only), ``labels`` int64 (N,) (None when the targets are not one-hot)."""

    rows: np.ndarray
    targets: np.ndarray | None
    labels: np.ndarray | None

    @property
    def n(self) -> int:
        return self.rows.shape[0]


def _dtype_fix(name: str, dtype: np.dtype):
    """The remedy that ends the message for an X of another dtype than the network's."""

    def fix(got: np.dtype) -> str:
        if got.kind in "uib":
            return "for MNIST images use steepest.network.mnist_for_network"
        if got.kind == "f":
            return f"convert with {name}.astype(numpy.{dtype}) or build the Network with dtype=numpy.{got}"
        return f"convert with {name}.astype(numpy.{dtype})"

    return fix


def _network_input(value: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """An array of the network's dtype (its shape is the caller's to check)."""
    return _validate.array_of_dtype(value, name, dtype, fix=_dtype_fix(name, dtype))


def _pairs_to_arrays(
    name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Stack the book's (x, y) pairs: rows (N, D), targets (N, C), labels (N,) or None."""
    try:
        pairs = list(data)
    except TypeError:
        raise TypeError(
            f"{name} must be a list of (x, y) pairs or an (X, y) pair of arrays; got {describe(data)}"
        ) from None
    if not pairs:
        raise ValueError(f"{name} must hold at least one example; got none")
    n = len(pairs)
    rows = np.empty((n, n_in), dtype=dtype)
    targets = np.zeros((n, n_out), dtype=dtype)
    labels = np.empty(n, dtype=np.int64)
    one_hot = True
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{i}] must be an (x, y) pair; got {describe(pair)}")
        x, t = pair
        x = _validate.ndarray(x, f"{name}[{i}][0]", "floats")
        if x.dtype.kind != "f":
            raise TypeError(f"{name}[{i}][0] must be a float array; got dtype {x.dtype}")
        if x.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"{name}[{i}][0] must have shape ({n_in}, 1) to match the first layer; got {x.shape}")
        rows[i] = x.reshape(n_in)
        if isinstance(t, (bool, np.bool_)):
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column; got bool")
        if isinstance(t, numbers.Integral) or (isinstance(t, np.ndarray) and t.ndim == 0 and t.dtype.kind in "iu"):
            k = int(t)
            if not 0 <= k < n_out:
                raise ValueError(
                    f"{name}[{i}][1] must be a label in [0, {n_out}) for a {n_out}-unit output layer; got {k}"
                )
            targets[i, k] = 1.0
            labels[i] = k
        elif isinstance(t, np.ndarray):
            if t.dtype.kind != "f":
                raise TypeError(
                    f"{name}[{i}][1] must be an int label or a float ({n_out}, 1) target; got dtype {t.dtype}"
                )
            if t.shape not in ((n_out, 1), (n_out,)):
                raise ValueError(f"{name}[{i}][1] must have shape ({n_out}, 1) to match the last layer; got {t.shape}")
            targets[i] = t.reshape(n_out)
            k = int(np.argmax(targets[i]))
            labels[i] = k
            if one_hot and not (targets[i, k] == 1.0 and np.count_nonzero(targets[i]) == 1):
                one_hot = False
        else:
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column; got {describe(t)}")
    _validate.finite(rows, name + " inputs")
    _validate.finite(targets, name + " targets")
    return rows, targets, (labels if one_hot else None)


def _array_targets(name: str, t: np.ndarray, n: int, n_out: int, dtype: np.dtype, need_targets: bool):
    """Targets (N, C) or None and labels (N,) or None from the ``y`` of an ``(X, y)`` pair."""
    if t.ndim == 1:
        if t.shape[0] != n:
            raise ValueError(f"{name} y must have shape ({n},) to match X's {n} columns; got {t.shape}")
        labels = _validate.labels(t, n, n_out, f"{name} y")
        targets = None
        if need_targets:
            targets = np.zeros((n, n_out), dtype=dtype)
            targets[np.arange(n), labels] = 1.0
        return targets, labels
    if t.ndim == 2:
        if t.dtype.kind != "f":
            raise TypeError(
                f"{name} y must be integer labels (N,) or float targets ({n_out}, N); "
                f"got dtype {t.dtype} with shape {t.shape}"
            )
        if t.shape != (n_out, n):
            raise ValueError(f"{name} y targets must have shape ({n_out}, {n}); got {t.shape}")
        _validate.finite(t, f"{name} y")
        targets = np.ascontiguousarray(t.T, dtype=dtype)
        k = np.argmax(targets, axis=1)
        hot = np.zeros_like(targets)
        hot[np.arange(n), k] = 1.0
        return targets, (k.astype(np.int64) if np.array_equal(hot, targets) else None)
    raise ValueError(f"{name} y must be 1-D labels (N,) or 2-D targets ({n_out}, N); got shape {t.shape}")


def _as_data(name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype, need_targets: bool) -> _Data:
    """Validate ``data`` in either form (see the package docstring) and return a :class:`_Data`."""
    if isinstance(data, _Data):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        X = _network_input(data[0], f"{name} X", dtype)
        if X.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if X.shape[1] == n_in else ""
            raise ValueError(
                f"{name} X must have shape ({n_in}, N) to match the first layer of {n_in} units; got {X.shape}{hint}"
            )
        n = X.shape[1]
        if n == 0:
            raise ValueError(f"{name} must hold at least one example; got X of shape {X.shape}")
        y = _validate.ndarray(data[1], f"{name} y", "integer labels or float targets")
        targets, labels = _array_targets(name, y, n, n_out, dtype, need_targets)
        _validate.finite(X, f"{name} X")
        return _Data(X.T, targets, labels)
    rows, targets, labels = _pairs_to_arrays(name, data, n_in, n_out, dtype)
    return _Data(rows, targets, labels)
