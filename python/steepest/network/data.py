"""The network's data: the book's forms (one-hot columns, lists of ``(x, y)`` pairs) and the array form.

:func:`vectorized_result`, :func:`mnist_for_network` and :func:`to_pairs` are public. ``_as_data`` turns either form
of a data set into a :class:`_Data` (rows, targets, labels, and the book's pairs when given in that form), checking
it before any work starts; every method of the networks that takes data goes through it.

Inputs (``x`` of a pair, ``X`` of an array pair, the argument of ``feedforward`` and ``backprop``) follow one rule
everywhere, checked by :func:`network_input`: a float dtype that converts exactly to the network's (float32 into
a float64 network, as the book's ``mnist.pkl.gz`` holds float32 pixels) is accepted and converted; a float dtype
that would round (float64 into a float32 network) is refused; integer pixels are refused with the advice to divide
by 255.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from .. import _validate
from .._validate import describe

MAX_DENSITY = 0.5  # inputs with at most this fraction of non-zero entries are read through their CSR form


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
    """A validated data set: ``rows`` (N, D) in the network's dtype (any strides), ``targets`` (N, C)
    C-contiguous (None when not asked for), ``labels`` int64 (N,) (None when the targets are not one-hot).

    ``pairs`` is the book's list of ``(x, y)`` pairs when the data came in that form (what a user-written method
    receives), and ``int_labels`` says whether their ``y`` were all ints (True), all arrays (False) or mixed
    (None); both are None for the array form."""

    rows: np.ndarray
    targets: np.ndarray | None
    labels: np.ndarray | None
    pairs: list | None = None
    int_labels: bool | None = None
    backend: str = "auto"  # "numpy": no Numba kernel for this data set (SGD's backend= argument)
    _csr: tuple | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.rows.shape[0]

    def csr(self, kernels: Any) -> tuple | None:
        """The inputs' CSR form ``(indptr, indices, values)`` from the Numba module ``kernels``, computed once;
        None when more than ``MAX_DENSITY`` of the entries are non-zero (the dense path is then faster)."""
        if self._csr is None:
            self._csr = kernels.csr(self.rows, MAX_DENSITY)
        return self._csr if self._csr[0].shape[0] else None

    def book_pairs(self, n_out: int) -> list:
        """The book's pairs (built from the arrays, one-hot ``y``, when the data came as arrays)."""
        if self.pairs is None:
            rows = self.rows
            if self.targets is None:  # test data: int labels, as the book's
                self.pairs = [(rows[i][:, None], int(k)) for i, k in enumerate(self.labels)]
            else:
                self.pairs = [(rows[i][:, None], self.targets[i][:, None]) for i in range(self.n)]
        return self.pairs


def _one_hot(labels: np.ndarray, n_out: int, dtype: np.dtype) -> np.ndarray:
    out = np.zeros((labels.shape[0], n_out), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def input_dtype_error(name: str, got: np.dtype, dtype: np.dtype) -> TypeError | None:
    """The TypeError for an input of dtype ``got`` to a network of ``dtype``, or None when it is accepted."""
    if got.kind == "f" and np.can_cast(got, dtype, "safe"):
        return None
    if got.kind in "uib":
        return TypeError(
            f"{name} must hold floats in [0, 1] (dtype {dtype}); got integer dtype {got}: divide the pixels by 255 "
            f"first, e.g. pixels / 255.0 (for MNIST images use steepest.network.mnist_for_network)"
        )
    if got.kind == "f":
        return TypeError(
            f"{name} must have dtype {dtype} (float32 is accepted and converted exactly); got {got}, which would "
            f"round: convert with .astype(numpy.{dtype}) or build the network with dtype=numpy.{got}"
        )
    return TypeError(f"{name} must hold floats (dtype {dtype}); got dtype {got}")


def network_input(value: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """An array of the network's dtype: the same array, or an exact conversion (its shape is the caller's to check)."""
    a = _validate.ndarray(value, name, f"floats (dtype {dtype})")
    if a.dtype == dtype:
        return a
    err = input_dtype_error(name, a.dtype, dtype)
    if err is not None:
        raise err
    return a.astype(dtype)


def _is_label(t: Any) -> bool:
    if isinstance(t, (bool, np.bool_)):
        return False
    return isinstance(t, numbers.Integral) or (isinstance(t, np.ndarray) and t.ndim == 0 and t.dtype.kind in "iu")


def _pairs_fast(pairs: list, n_in: int, n_out: int, dtype: np.dtype):
    """Stack well-formed pairs in a few bulk operations; None when anything is unusual (the slow loop explains)."""
    if not all(type(p) is tuple and len(p) == 2 for p in pairs):
        return None
    xs = [p[0] for p in pairs]
    ts = [p[1] for p in pairs]
    kinds = {(type(x), x.shape, x.dtype) if isinstance(x, np.ndarray) else None for x in xs}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is None or kind[0] is not np.ndarray or kind[1] != (n_in, 1) or input_dtype_error("x", kind[2], dtype):
        return None
    n = len(pairs)
    rows = np.empty((n, n_in), dtype=dtype)
    np.stack(xs, out=rows.reshape(n, n_in, 1), casting="safe")
    if all(type(t) is int or type(t) is np.int64 for t in ts):
        labels = np.array(ts, dtype=np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= n_out):
            return None
        return rows, _one_hot(labels, n_out, dtype), labels, True
    tkinds = {(type(t), t.shape, t.dtype.kind) if isinstance(t, np.ndarray) else None for t in ts}
    if tkinds != {(np.ndarray, (n_out, 1), "f")}:
        return None
    targets = np.empty((n, n_out), dtype=dtype)
    np.stack(ts, out=targets.reshape(n, n_out, 1), casting="unsafe")
    return rows, targets, None, False


def _pairs_to_arrays(name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype):
    """Stack the book's (x, y) pairs: (pairs list, rows (N, D), targets (N, C), labels (N,) or None, int_labels)."""
    try:
        pairs = list(data)
    except TypeError:
        raise TypeError(
            f"{name} must be a list of (x, y) pairs or an (X, y) pair of arrays; got {describe(data)}"
        ) from None
    if not pairs:
        raise ValueError(f"{name} must hold at least one example; got none")
    fast = _pairs_fast(pairs, n_in, n_out, dtype)
    if fast is not None:
        rows, targets, labels, int_labels = fast
        if labels is None:
            labels = _labels_if_one_hot(targets)
        _validate.finite(rows, name + " inputs")
        _validate.finite(targets, name + " targets")
        return pairs, rows, targets, labels, int_labels
    n = len(pairs)
    rows = np.empty((n, n_in), dtype=dtype)
    targets = np.zeros((n, n_out), dtype=dtype)
    kinds = set()
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{i}] must be an (x, y) pair; got {describe(pair)}")
        x, t = pair
        x = network_input(x, f"{name}[{i}][0]", dtype)
        if x.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"{name}[{i}][0] must have shape ({n_in}, 1) to match the first layer; got {x.shape}")
        rows[i] = x.reshape(n_in)
        if isinstance(t, (bool, np.bool_)):
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column; got bool")
        if _is_label(t):
            k = int(t)
            if not 0 <= k < n_out:
                raise ValueError(
                    f"{name}[{i}][1] must be a label in [0, {n_out}) for a {n_out}-unit output layer; got {k}"
                )
            targets[i, k] = 1.0
            kinds.add(True)
        elif isinstance(t, np.ndarray):
            if t.dtype.kind != "f":
                raise TypeError(
                    f"{name}[{i}][1] must be an int label or a float ({n_out}, 1) target; got dtype {t.dtype}"
                )
            if t.shape not in ((n_out, 1), (n_out,)):
                raise ValueError(f"{name}[{i}][1] must have shape ({n_out}, 1) to match the last layer; got {t.shape}")
            targets[i] = t.reshape(n_out)
            kinds.add(False)
        else:
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column; got {describe(t)}")
    _validate.finite(rows, name + " inputs")
    _validate.finite(targets, name + " targets")
    int_labels = kinds.pop() if len(kinds) == 1 else None
    return pairs, rows, targets, _labels_if_one_hot(targets), int_labels


def _labels_if_one_hot(targets: np.ndarray) -> np.ndarray | None:
    k = np.argmax(targets, axis=1)
    hot = _one_hot(k, targets.shape[1], targets.dtype)
    return k.astype(np.int64) if np.array_equal(hot, targets) else None


def _array_targets(name: str, t: np.ndarray, n: int, n_out: int, dtype: np.dtype, need_targets: bool):
    """Targets (N, C) or None and labels (N,) or None from the ``y`` of an ``(X, y)`` pair."""
    if t.ndim == 1:
        if t.shape[0] != n:
            raise ValueError(f"{name} y must have shape ({n},) to match X's {n} columns; got {t.shape}")
        labels = _validate.labels(t, n, n_out, f"{name} y")
        return (_one_hot(labels, n_out, dtype) if need_targets else None), labels
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
        return targets, _labels_if_one_hot(targets)
    raise ValueError(f"{name} y must be 1-D labels (N,) or 2-D targets ({n_out}, N); got shape {t.shape}")


def _as_data(name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype, need_targets: bool) -> _Data:
    """Validate ``data`` in either form (see :mod:`steepest.network`) and return a :class:`_Data`."""
    if isinstance(data, _Data):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        X = network_input(data[0], f"{name} X", dtype)
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
    pairs, rows, targets, labels, int_labels = _pairs_to_arrays(name, data, n_in, n_out, dtype)
    return _Data(rows, targets, labels, pairs, int_labels)
