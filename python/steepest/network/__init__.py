"""Nielsen's network: a sigmoid network learning by mini-batch stochastic gradient descent.

The model and the API of chapter 1 of Michael Nielsen's "Neural Networks and Deep Learning"
(``network.py``; the cross-entropy cost, L2 decay, scaled initialization and JSON files of his
``network2.py``), with the whole mini-batch back-propagated at once in matrix form.

    >>> from steepest.network import Network, mnist_for_network
    >>> from steepest.datasets import load_mnist
    >>> X, y = mnist_for_network(*load_mnist(path, kind="t10k"))       # X (784, N) in [0, 1]
    >>> net = Network([784, 30, 10], seed=0)
    >>> history = net.SGD((X[:, :8000], y[:8000]), 30, 10, 3.0, test_data=(X[:, 8000:], y[8000:]))
    Epoch 0: 1702 / 2000
    ...

Conventions
-----------
- ``sizes`` lists the layer widths; ``weights[l]`` is (sizes[l+1], sizes[l]) and ``biases[l]`` is
  (sizes[l+1], 1), as in the book. Activations are ``a' = sigmoid(w @ a + b)``.
- Data, two forms. The book's: a list (or any iterable) of ``(x, y)`` pairs with ``x`` of shape
  (sizes[0], 1) and ``y`` a one-hot (sizes[-1], 1) column (training data) or an ``int`` label (test
  data); either kind of ``y`` is accepted everywhere. Arrays: a pair ``(X, y)`` with ``X`` of shape
  (sizes[0], N), one example per column, and ``y`` integer labels (N,) in [0, sizes[-1]) or, for
  training, float targets (sizes[-1], N). ``X`` must have the network's dtype (float32 or float64);
  both memory orders of ``X`` are read in place (``X_rows.T`` is fastest: each mini-batch gathers
  contiguous rows), nothing is copied. :func:`mnist_for_network` makes ``X`` from the MNIST loader.
- Costs, per example: quadratic ``C_x = 1/2 ||a - y||^2``; cross-entropy
  ``C_x = sum_j -y_j ln a_j - (1 - y_j) ln(1 - a_j)`` (computed from the output ``z`` in a form that
  never takes the log of an underflowed activation). ``total_cost`` is ``network2.py``'s: the mean of
  ``C_x`` plus ``lmbda / (2n) * sum ||w||^2``.
- Randomness: ``seed`` (int or ``numpy.random.Generator``) drives the initialization and every
  epoch's shuffle; the same seed gives bit-for-bit the same weights and history.
- Bad input raises ``TypeError`` (wrong kind or dtype) or ``ValueError`` (bad shape or value) naming
  the argument, before any work starts. A training run whose parameters stop being finite raises
  ``FloatingPointError`` and restores the parameters of the last finite epoch.

Implementation: back-propagation of a mini-batch of m examples is a handful of BLAS products
((m, n_in) @ (n_in, n_out) forward, (n_out, m) @ (m, n_in) for the weight gradient). At the book's
sizes ([784, 30, 10], m = 10) the NumPy form spends about half its time in some 30 NumPy calls per
mini-batch, so ``SGD`` runs the mini-batches in a Numba kernel (``_network_numba.py``: the same
BLAS products, fused loops for everything else, 64 mini-batches per call so Ctrl-C is seen within
milliseconds): 31 ms against 53 ms per epoch of 8,000 MNIST images (``bench/bench_network.py``;
11.7x and 6.7x the book's per-example algorithm). ``backend="numpy"`` selects the NumPy form, which
is also the fallback without Numba; both are tested against the book.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import signal
import threading
import time
from typing import Any, Sequence

from .._atomic import write_text

import numpy as np

__all__ = [
    "Network",
    "TrainingHistory",
    "mnist_for_network",
    "sigmoid",
    "sigmoid_prime",
    "to_pairs",
    "vectorized_result",
]

_COSTS = ("quadratic", "cross_entropy")
_INITS = ("standard", "scaled")
_MONITORS = ("training_cost", "training_accuracy", "test_cost", "test_accuracy")
# network2.py saves its cost class's name; accept those files too.
_COST_ALIASES = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy"}
_FORMAT = "steepest.network/1"
_CHUNK = 2048  # examples per block when evaluating a whole data set (bounds the temporaries)
_NUMBA_CHUNK = 64  # mini-batches per call of the Numba kernel: Ctrl-C is seen within ~3 ms


# --------------------------------------------------------------------------------------------
# validation (kept here, self-contained)


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of dtype {value.dtype} and shape {value.shape}"
    return type(value).__name__


def _check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_kind(value)} {value!r}")
    value = int(value)
    if low is not None and value < low or high is not None and value > high:
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an int {bounds}, got {value}")
    return value


def _check_real(name: str, value: Any, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_kind(value)} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_kind(value)} {value!r}")
    return bool(value)


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, choices))}, got {_kind(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _check_dtype(value: Any) -> np.dtype:
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {value!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype}")
    return dtype


def _make_rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {_kind(seed)} {seed!r}")
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative int, got {int(seed)}")
    return np.random.default_rng(int(seed))


def _check_array(name: str, value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {_kind(value)}")
    if isinstance(value, np.matrix) or isinstance(value, np.ma.MaskedArray) or type(value) is not np.ndarray:
        raise TypeError(f"{name} must be a plain numpy.ndarray, got {type(value).__name__}")
    if not value.dtype.isnative:
        raise TypeError(f"{name} must be in native byte order, got dtype {value.dtype.str}; use .astype({value.dtype.newbyteorder('=')})")
    return value


def _check_float_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    value = _check_array(name, value)
    if value.dtype != dtype:
        hint = ""
        if value.dtype.kind in "uib":
            hint = " (for MNIST images use steepest.network.mnist_for_network)"
        elif value.dtype.kind == "f":
            hint = f"; convert with {name}.astype(numpy.{dtype}) or build the Network with dtype=numpy.{value.dtype}"
        raise TypeError(f"{name} must have the network's dtype {dtype}, got {value.dtype}{hint}")
    return value


def _check_finite(name: str, value: np.ndarray) -> None:
    if value.size and not np.isfinite(value).all():
        bad = np.argwhere(~np.isfinite(value))[0]
        raise ValueError(f"{name} must be finite, got {value[tuple(bad)]} at index {tuple(int(i) for i in bad)}")


def _check_labels(name: str, y: np.ndarray, n_out: int) -> np.ndarray:
    if y.dtype.kind not in "iu" or y.dtype.itemsize > 8 or (y.dtype.kind == "u" and y.dtype.itemsize == 8):
        raise TypeError(f"{name} must hold integer labels (int8..int64, uint8..uint32), got dtype {y.dtype}")
    if y.size:
        bad = np.flatnonzero((y < 0) | (y >= n_out))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{name} must hold labels in [0, {n_out}) for a {n_out}-unit output layer, got {int(y[i])} at index {i}")
    return y.astype(np.int64, copy=False)


def _check_path(name: str, path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {_kind(path)}")
    return os.fspath(path)


# --------------------------------------------------------------------------------------------
# the book's functions


def sigmoid(z: Any) -> np.ndarray:
    """The sigmoid ``1 / (1 + exp(-z))``, elementwise (no overflow warning for very negative z)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def sigmoid_prime(z: Any) -> np.ndarray:
    """Derivative of the sigmoid, ``sigmoid(z) * (1 - sigmoid(z))``."""
    s = sigmoid(z)
    return s * (1 - s)


def vectorized_result(j: int, n_out: int = 10, dtype: Any = np.float64) -> np.ndarray:
    """The one-hot (n_out, 1) column with a 1 in position ``j`` (the book's helper)."""
    n_out = _check_int("n_out", n_out, low=1)
    j = _check_int("j", j, low=0, high=n_out - 1)
    e = np.zeros((n_out, 1), dtype=_check_dtype(dtype))
    e[j] = 1.0
    return e


def mnist_for_network(images: Any, labels: Any, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Convert ``load_mnist`` output to the network's array form.

    ``images`` uint8 (N, 784) and ``labels`` integer (N,) become ``X`` of shape (784, N) in the
    requested float dtype with values ``images / 255`` in [0, 1], and ``y`` int64 (N,). ``X`` is the
    transpose of a C-contiguous (N, 784) array, the layout whose mini-batches are contiguous rows.
    One pass over the images; the result is a new array (``images`` is not modified).
    """
    dtype = _check_dtype(dtype)
    images = _check_array("images", images)
    labels = _check_array("labels", labels)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 pixels (as load_mnist returns), got dtype {images.dtype}")
    if images.ndim == 3:
        images = images.reshape(images.shape[0], -1)
    if images.ndim != 2:
        raise ValueError(f"images must have shape (N, 784) or (N, 28, 28), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must have shape ({images.shape[0]},) to match images, got {labels.shape}")
    y = _check_labels("labels", labels, 10)
    rows = np.multiply(images, dtype.type(1.0 / 255.0), dtype=dtype)
    return rows.T, y.copy()


def to_pairs(X: Any, y: Any, one_hot: bool = True, n_out: int = 10) -> list[tuple[np.ndarray, Any]]:
    """The book's data form: a list of ``(x, y)`` with ``x`` a (D, 1) column of ``X`` (D, N).

    ``one_hot=True`` (training data) makes each ``y`` a one-hot (n_out, 1) column in X's dtype;
    ``False`` (test data) keeps the ``int`` label. Labels must lie in [0, n_out). The columns are
    copies.
    """
    X = _check_array("X", X)
    y = _check_array("y", y)
    if X.ndim != 2 or y.ndim != 1 or y.shape[0] != X.shape[1]:
        raise ValueError(f"X must be (D, N) and y (N,) with the same N, got {X.shape} and {y.shape}")
    if X.dtype.kind != "f":
        raise TypeError(f"X must be a float array, got dtype {X.dtype}")
    one_hot = _check_bool("one_hot", one_hot)
    n_out = _check_int("n_out", n_out, low=1)
    y = _check_labels("y", y, n_out)
    out = []
    for i in range(X.shape[1]):
        x = X[:, i : i + 1].copy()
        out.append((x, vectorized_result(int(y[i]), n_out, X.dtype) if one_hot else int(y[i])))
    return out


# --------------------------------------------------------------------------------------------
# data


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


def _pairs_to_arrays(name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Stack the book's (x, y) pairs: rows (N, D), targets (N, C) or None, labels (N,) or None."""
    try:
        pairs = list(data)
    except TypeError:
        raise TypeError(f"{name} must be a list of (x, y) pairs or an (X, y) pair of arrays, got {_kind(data)}") from None
    if not pairs:
        raise ValueError(f"{name} must hold at least one example, got none")
    n = len(pairs)
    rows = np.empty((n, n_in), dtype=dtype)
    targets = np.zeros((n, n_out), dtype=dtype)
    labels = np.empty(n, dtype=np.int64)
    one_hot = True
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{i}] must be an (x, y) pair, got {_kind(pair)}")
        x, t = pair
        x = _check_array(f"{name}[{i}][0]", x)
        if x.dtype.kind != "f":
            raise TypeError(f"{name}[{i}][0] must be a float array, got dtype {x.dtype}")
        if x.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"{name}[{i}][0] must have shape ({n_in}, 1) to match the first layer, got {x.shape}")
        rows[i] = x.reshape(n_in)
        if isinstance(t, (bool, np.bool_)):
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column, got bool")
        if isinstance(t, numbers.Integral) or (isinstance(t, np.ndarray) and t.ndim == 0 and t.dtype.kind in "iu"):
            k = int(t)
            if not 0 <= k < n_out:
                raise ValueError(f"{name}[{i}][1] must be a label in [0, {n_out}) for a {n_out}-unit output layer, got {k}")
            targets[i, k] = 1.0
            labels[i] = k
        elif isinstance(t, np.ndarray):
            if t.dtype.kind != "f":
                raise TypeError(f"{name}[{i}][1] must be an int label or a float ({n_out}, 1) target, got dtype {t.dtype}")
            if t.shape not in ((n_out, 1), (n_out,)):
                raise ValueError(f"{name}[{i}][1] must have shape ({n_out}, 1) to match the last layer, got {t.shape}")
            targets[i] = t.reshape(n_out)
            k = int(np.argmax(targets[i]))
            labels[i] = k
            if one_hot and not (targets[i, k] == 1.0 and np.count_nonzero(targets[i]) == 1):
                one_hot = False
        else:
            raise TypeError(f"{name}[{i}][1] must be an int label or a ({n_out}, 1) target column, got {_kind(t)}")
    _check_finite(name + " inputs", rows)
    _check_finite(name + " targets", targets)
    return rows, targets, (labels if one_hot else None)


def _as_data(name: str, data: Any, n_in: int, n_out: int, dtype: np.dtype, need_targets: bool) -> _Data:
    """Validate ``data`` in either form (see the module docstring) and return a :class:`_Data`."""
    if isinstance(data, _Data):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        X = _check_float_array(f"{name} X", data[0], dtype)
        if X.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if X.shape[1] == n_in else ""
            raise ValueError(f"{name} X must have shape ({n_in}, N) to match the first layer of {n_in} units, got {X.shape}{hint}")
        n = X.shape[1]
        if n == 0:
            raise ValueError(f"{name} must hold at least one example, got X of shape {X.shape}")
        t = _check_array(f"{name} y", data[1])
        if t.ndim == 1:
            if t.shape[0] != n:
                raise ValueError(f"{name} y must have shape ({n},) to match X's {n} columns, got {t.shape}")
            labels = _check_labels(f"{name} y", t, n_out)
            targets = None
            if need_targets:
                targets = np.zeros((n, n_out), dtype=dtype)
                targets[np.arange(n), labels] = 1.0
        elif t.ndim == 2:
            if t.dtype.kind != "f":
                raise TypeError(f"{name} y must be integer labels (N,) or float targets ({n_out}, N), got dtype {t.dtype} with shape {t.shape}")
            if t.shape != (n_out, n):
                raise ValueError(f"{name} y targets must have shape ({n_out}, {n}), got {t.shape}")
            _check_finite(f"{name} y", t)
            targets = np.ascontiguousarray(t.T, dtype=dtype)
            k = np.argmax(targets, axis=1)
            hot = np.zeros_like(targets)
            hot[np.arange(n), k] = 1.0
            labels = k.astype(np.int64) if np.array_equal(hot, targets) else None
        else:
            raise ValueError(f"{name} y must be 1-D labels (N,) or 2-D targets ({n_out}, N), got shape {t.shape}")
        _check_finite(f"{name} X", X)
        return _Data(X.T, targets, labels)
    rows, targets, labels = _pairs_to_arrays(name, data, n_in, n_out, dtype)
    return _Data(rows, targets, labels)


# --------------------------------------------------------------------------------------------
# history


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """What :meth:`Network.SGD` measured, one entry per completed epoch.

    ``training_cost`` / ``test_cost`` are ``total_cost`` values (including the L2 term);
    ``training_accuracy`` / ``test_accuracy`` are counts of correct predictions out of ``n_train`` /
    ``n_test``; a metric not monitored is an empty tuple. ``elapsed`` is the seconds per epoch
    (training and monitoring). ``interrupted`` is True when Ctrl-C stopped the run: the network then
    holds the parameters after the last complete mini-batch, and ``n_updates`` counts them all.
    """

    epochs: tuple[int, ...]
    training_cost: tuple[float, ...]
    training_accuracy: tuple[int, ...]
    test_cost: tuple[float, ...]
    test_accuracy: tuple[int, ...]
    elapsed: tuple[float, ...]
    n_train: int
    n_test: int
    n_updates: int
    interrupted: bool

    def __str__(self) -> str:
        cols: list[tuple[str, list[str]]] = [("epoch", [str(e) for e in self.epochs])]
        if self.training_cost:
            cols.append(("train cost", [f"{c:.6f}" for c in self.training_cost]))
        if self.training_accuracy:
            cols.append(("train accuracy", [f"{k} / {self.n_train} ({100 * k / self.n_train:.2f}%)" for k in self.training_accuracy]))
        if self.test_cost:
            cols.append(("test cost", [f"{c:.6f}" for c in self.test_cost]))
        if self.test_accuracy:
            cols.append(("test accuracy", [f"{k} / {self.n_test} ({100 * k / self.n_test:.2f}%)" for k in self.test_accuracy]))
        cols.append(("seconds", [f"{t:.3f}" for t in self.elapsed]))
        widths = [max(len(h), *(len(v) for v in vals)) if vals else len(h) for h, vals in cols]
        lines = ["  ".join(h.rjust(w) for (h, _), w in zip(cols, widths))]
        for i in range(len(self.epochs)):
            lines.append("  ".join(vals[i].rjust(w) for (_, vals), w in zip(cols, widths)))
        total = sum(self.elapsed)
        status = "interrupted" if self.interrupted else "complete"
        lines.append(f"{len(self.epochs)} epochs {status}, {self.n_updates} mini-batch updates, {total:.3f} s")
        return "\n".join(lines)


class _Interrupt:
    """Turns the first Ctrl-C into a flag checked between mini-batches (a second one raises)."""

    def __init__(self) -> None:
        self.hit = False
        self._old: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.hit = True
        signal.signal(signal.SIGINT, self._old)

    def __enter__(self) -> "_Interrupt":
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
            except (ValueError, TypeError):  # embedded interpreters without signal support
                self._installed = False
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._old)


# --------------------------------------------------------------------------------------------
# the network


class _Workspace:
    """Buffers for back-propagating m examples through ``sizes`` in row layout (m, width)."""

    def __init__(self, sizes: Sequence[int], m: int, dtype: np.dtype, rows: bool = True) -> None:
        self.m = m
        self.A = [np.empty((m, k), dtype=dtype) for k in sizes]  # A[0]: the gathered inputs
        self.A0T = None
        if not rows:  # inputs gathered as columns (D, m); A[0] is its transposed view
            self.A0T = np.empty((sizes[0], m), dtype=dtype)
            self.A[0] = self.A0T.T
        self.D = [np.empty((m, k), dtype=dtype) for k in sizes[1:]]  # deltas per layer
        self.T = [np.empty((m, k), dtype=dtype) for k in sizes[1:]]  # scratch
        self.Y = np.empty((m, sizes[-1]), dtype=dtype)
        self.gW = [np.empty((o, i), dtype=dtype) for i, o in zip(sizes[:-1], sizes[1:])]
        self.gb = [np.empty(o, dtype=dtype) for o in sizes[1:]]


class Network:
    """A fully connected sigmoid network (Nielsen, chapter 1).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[784, 30, 10]``. At least 2 layers, each width >= 1.
    cost : {"quadratic", "cross_entropy"}
        The per-example cost (module docstring). The book's chapter 1 uses "quadratic".
    seed : None, int or numpy.random.Generator
        Drives the initialization and the shuffling of :meth:`SGD`. A Generator is used (and
        advanced) as given.
    dtype : numpy.float32 or numpy.float64
        The parameters' dtype; data passed as arrays must have it.
    init : {"standard", "scaled"}
        "standard": weights and biases from N(0, 1) (the book's chapter 1). "scaled": weights from
        N(0, 1/n_in), biases N(0, 1) (``network2.py``'s default). Draws are made in float64 and
        rounded to ``dtype``, so a float32 network holds the rounded float64 parameters.

    Attributes ``weights`` and ``biases`` are lists of arrays shaped as in the book and updated in
    place by training.
    """

    def __init__(self, sizes: Sequence[int], cost: str = "quadratic", seed: Any = None, dtype: Any = np.float64, init: str = "standard") -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"sizes must be a list of layer widths like [784, 30, 10], got {_kind(sizes)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least 2 layers (input and output), got {list(sizes)}")
        self.sizes = [_check_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
        for i, s in enumerate(self.sizes):
            if s < 1:
                raise ValueError(f"sizes[{i}] must be a positive layer width, got {s}")
        self.cost = _check_choice("cost", cost, _COSTS)
        self.init = _check_choice("init", init, _INITS)
        self.dtype = _check_dtype(dtype)
        self.rng = _make_rng(seed)
        self.num_layers = len(self.sizes)
        self.biases: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        # Same draw order as the book: all biases, then all weights.
        for n_out in self.sizes[1:]:
            self.biases.append(self.rng.standard_normal((n_out, 1)).astype(self.dtype))
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            w = self.rng.standard_normal((n_out, n_in))
            if self.init == "scaled":
                w /= np.sqrt(n_in)
            self.weights.append(w.astype(self.dtype))

    def __repr__(self) -> str:
        return f"Network({self.sizes}, cost={self.cost!r}, dtype=numpy.{self.dtype}, init={self.init!r})"

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    # ---- forward passes ---------------------------------------------------------------------

    def _forward_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Output activations and output z for ``rows`` (m, D): both (m, C)."""
        a = rows
        z = a
        with np.errstate(over="ignore"):
            for w, b in zip(self.weights, self.biases):
                z = a @ w.T
                z += b.T
                a = np.negative(z)
                np.exp(a, out=a)
                a += 1
                np.reciprocal(a, out=a)
        return a, z

    def _outputs(self, data: _Data):
        """Yield (start, a, z) blocks of outputs for a whole data set."""
        for k in range(0, data.n, _CHUNK):
            a, z = self._forward_rows(data.rows[k : k + _CHUNK])
            yield k, a, z

    def feedforward(self, a: Any) -> np.ndarray:
        """The output ``sigmoid(w_L @ ... sigmoid(w_1 @ a + b_1) ... + b_L)``.

        ``a`` has shape (sizes[0], 1) as in the book, (sizes[0],) or (sizes[0], N) (one example per
        column), in the network's dtype; the result has the matching shape with sizes[-1] rows.
        """
        a = _check_float_array("a", a, self.dtype)
        n_in = self.sizes[0]
        if a.ndim not in (1, 2) or a.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if a.ndim == 2 and a.shape[1] == n_in else ""
            raise ValueError(f"a must have shape ({n_in}, N) or ({n_in},) to match the first layer, got {a.shape}{hint}")
        _check_finite("a", a)
        with np.errstate(over="ignore"):
            for b, w in zip(self.biases, self.weights):
                z = w @ a
                z += b if a.ndim == 2 else b[:, 0]
                a = 1.0 / (1.0 + np.exp(-z))
        return a

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``argmax`` of the output, int64 (N,), for ``X`` of shape (sizes[0], N)
        (or (sizes[0],): one example, result of shape (1,))."""
        X = _check_float_array("X", X, self.dtype)
        n_in = self.sizes[0]
        if X.ndim == 1 and X.shape[0] == n_in:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if X.ndim == 2 and X.shape[1] == n_in else ""
            raise ValueError(f"X must have shape ({n_in}, N) to match the first layer, got {X.shape}{hint}")
        _check_finite("X", X)
        data = _Data(X.T, None, None)
        out = np.empty(X.shape[1], dtype=np.int64)
        for k, a, _ in self._outputs(data):
            out[k : k + a.shape[0]] = np.argmax(a, axis=1)
        return out

    def _data(self, name: str, data: Any, need_targets: bool = False) -> _Data:
        return _as_data(name, data, self.sizes[0], self.sizes[-1], self.dtype, need_targets)

    def _correct(self, data: _Data) -> int:
        labels = data.labels if data.labels is not None else np.argmax(data.targets, axis=1)
        count = 0
        for k, a, _ in self._outputs(data):
            count += int(np.count_nonzero(np.argmax(a, axis=1) == labels[k : k + a.shape[0]]))
        return count

    def evaluate(self, test_data: Any) -> int:
        """Number of examples whose output's largest unit is the label (the book's ``evaluate``).

        ``test_data``: the book's list of ``(x, int)`` (or one-hot ``y``) pairs, or ``(X, y)``.
        """
        return self._correct(self._data("test_data", test_data))

    def accuracy(self, data: Any) -> float:
        """Fraction of ``data`` classified correctly (``evaluate(data) / n``)."""
        d = self._data("data", data)
        return self._correct(d) / d.n

    def _cost_sum(self, data: _Data) -> float:
        """Sum of the per-example costs C_x over ``data`` (float64 accumulation)."""
        targets = data.targets
        total = 0.0
        for k, a, z in self._outputs(data):
            if targets is not None:
                y = targets[k : k + a.shape[0]]
            else:
                y = np.zeros_like(a)
                y[np.arange(a.shape[0]), data.labels[k : k + a.shape[0]]] = 1.0
            if self.cost == "quadratic":
                d = (a - y).astype(np.float64)
                total += 0.5 * float(np.sum(d * d))
            else:
                z64 = z.astype(np.float64)
                y64 = y.astype(np.float64)
                # -y ln a - (1-y) ln(1-a) with a = sigmoid(z): y softplus(-z) + (1-y) softplus(z)
                total += float(np.sum(y64 * np.logaddexp(0.0, -z64) + (1.0 - y64) * np.logaddexp(0.0, z64)))
        return total

    def total_cost(self, data: Any, lmbda: float = 0.0) -> float:
        """``network2.py``'s total cost: ``(1/n) sum_x C_x + lmbda/(2n) * sum ||w||^2``."""
        lmbda = _check_real("lmbda", lmbda, nonnegative=True)
        d = self._data("data", data, need_targets=True)
        return self._total_cost(d, lmbda)

    def _total_cost(self, d: _Data, lmbda: float) -> float:
        cost = self._cost_sum(d) / d.n
        if lmbda:
            cost += 0.5 * (lmbda / d.n) * sum(float(np.sum(np.square(w, dtype=np.float64))) for w in self.weights)
        return cost

    # ---- back-propagation -------------------------------------------------------------------

    def _backprop_ws(self, ws: _Workspace, scale: float = 1.0) -> None:
        """``scale`` times the gradients of sum_x C_x over the m examples in ``ws.A[0]`` / ``ws.Y``,
        into ``ws.gW`` (n_out, n_in) and ``ws.gb`` (n_out,).

        Row layout: A[l] (m, n_l). Forward ``A[l] = sigmoid(A[l-1] @ W.T + b)``; output delta
        ``(a - y) * a(1 - a)`` (quadratic) or ``a - y`` (cross-entropy), times ``scale``; backward
        ``D[l-1] = (D[l] @ W) * a(1 - a)``; ``gW = D.T @ A_prev``, ``gb = sum over rows of D``.
        Back-propagation is linear in the output delta, so scaling it once (m * C numbers) gives
        every gradient already multiplied by the step ``eta / m``. Called inside
        ``np.errstate(over="ignore")``: exp(-z) overflowing to inf gives the right sigmoid, 0.
        """
        A, D, T = ws.A, ws.D, ws.T
        weights = self.weights
        L = len(weights)
        for l in range(L):
            a = A[l + 1]
            np.matmul(A[l], weights[l].T, out=a)
            a += self.biases[l].T
            np.negative(a, out=a)
            np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)
        a = A[L]
        d = D[L - 1]
        np.subtract(a, ws.Y, out=d)
        if self.cost == "quadratic":
            t = T[L - 1]
            np.subtract(1, a, out=t)
            t *= a
            d *= t
        if scale != 1.0:
            d *= scale
        for l in range(L - 1, -1, -1):
            d = D[l]
            np.matmul(d.T, A[l], out=ws.gW[l])
            np.add.reduce(d, axis=0, out=ws.gb[l])
            if l:
                prev, t = D[l - 1], T[l - 1]
                np.matmul(d, weights[l], out=prev)
                np.subtract(1, A[l], out=t)
                t *= A[l]
                prev *= t

    def backprop(self, x: Any, y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of ``sum_x C_x`` over a batch, as the book's ``(nabla_b, nabla_w)`` lists.

        ``x``: (sizes[0], 1) (the book's single example) or (sizes[0], m), one example per column.
        ``y``: the targets, (sizes[-1], m) float (one-hot for classification), or integer labels
        (m,) (or an int for one example). ``nabla_b[l]`` is (sizes[l+1], 1) and ``nabla_w[l]``
        (sizes[l+1], sizes[l]): the sums over the batch of the book's per-example gradients (divide
        by m for the mean). The whole batch goes through at once: 3 BLAS products per layer.
        """
        if isinstance(y, numbers.Integral) and not isinstance(y, (bool, np.bool_)):
            y = np.array([y], dtype=np.int64)
        d = self._data("(x, y)", (x, y), need_targets=True)
        ws = _Workspace(self.sizes, d.n, self.dtype)
        ws.A[0][...] = d.rows
        ws.Y[...] = d.targets
        with np.errstate(over="ignore"):
            self._backprop_ws(ws)
        return [gb[:, None] for gb in ws.gb], ws.gW

    # ---- training ---------------------------------------------------------------------------

    def SGD(
        self,
        training_data: Any,
        epochs: int,
        mini_batch_size: int,
        eta: float,
        test_data: Any = None,
        lmbda: float = 0.0,
        verbose: bool = True,
        progress: bool = False,
        monitor: Any = None,
        backend: str = "auto",
    ) -> TrainingHistory:
        """Train by mini-batch stochastic gradient descent (the book's ``SGD``).

        Each epoch draws a permutation of the n training examples (without replacement, from the
        network's ``rng``; ``training_data`` itself is never shuffled or modified), cuts it into
        mini-batches of ``mini_batch_size`` (the last one may be smaller, as in the book) and for
        each mini-batch B updates ``w <- (1 - eta*lmbda/n) w - (eta/|B|) sum_{x in B} dC_x/dw`` and
        ``b <- b - (eta/|B|) sum_{x in B} dC_x/db``.

        ``verbose`` prints ``Epoch j: k / n`` after each epoch when ``test_data`` is given, else
        ``Epoch j complete``, plus one line per other monitored metric; ``progress=True`` shows a
        tqdm bar over the epochs (``pip install steepest[progress]``). ``monitor``: a subset of
        "training_cost", "training_accuracy", "test_cost", "test_accuracy" (default: test accuracy
        when ``test_data`` is given); the test metrics need ``test_data``.

        ``backend``: "auto" (the Numba kernel when Numba imports, else NumPy), "numba" or "numpy";
        the two agree to rounding (not bitwise: their BLAS calls may differ).

        Returns a :class:`TrainingHistory`. Ctrl-C stops after the current mini-batch (at most 64
        mini-batches with Numba) and returns the history reached, marked ``interrupted``. Cost:
        about 3 BLAS products per layer per mini-batch, one pass over the data per epoch.
        """
        epochs = _check_int("epochs", epochs, low=1)
        eta = _check_real("eta", eta, positive=True)
        lmbda = _check_real("lmbda", lmbda, nonnegative=True)
        verbose = _check_bool("verbose", verbose)
        progress = _check_bool("progress", progress)
        train = self._data("training_data", training_data, need_targets=True)
        n = train.n
        m = _check_int("mini_batch_size", mini_batch_size, low=1, high=n)
        test = None if test_data is None else self._data("test_data", test_data)
        if monitor is None:
            wanted = {"test_accuracy"} if test is not None else set()
        else:
            items = [monitor] if isinstance(monitor, str) else monitor
            try:
                items = list(items)
            except TypeError:
                raise TypeError(f"monitor must be a collection of names among {_MONITORS}, got {_kind(monitor)}") from None
            wanted = {_check_choice("monitor item", s, _MONITORS) for s in items}
            if test is None and wanted & {"test_cost", "test_accuracy"}:
                raise ValueError(f"monitor asks for {sorted(wanted & {'test_cost', 'test_accuracy'})} but test_data is None")
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                raise ImportError("progress=True needs tqdm: pip install steepest[progress]") from None
            bar = tqdm(total=epochs, unit="epoch", disable=False)
        write = bar.write if bar is not None else print

        rows, targets = train.rows, train.targets
        # Mini-batches gather contiguous rows of (N, D) data, or contiguous columns of (D, N) data;
        # any other strides are copied once to rows here.
        gather_rows = rows.flags.c_contiguous
        cols = rows.T
        if not gather_rows and not cols.flags.c_contiguous:
            rows = np.ascontiguousarray(rows)
            gather_rows = True
        hist: dict[str, list] = {k: [] for k in ("epochs", *_MONITORS, "elapsed")}
        backend = _check_choice("backend", backend, ("auto", "numba", "numpy"))
        kernel = None
        if backend != "numpy":
            try:
                from .._backends.numba.network import sgd_batches as kernel
            except ImportError as exc:
                if backend == "numba":
                    raise ImportError(f"backend='numba' needs numba: pip install numba ({exc})") from None
        quadratic = self.cost == "quadratic"
        data = rows if gather_rows else cols
        for l in range(len(self.weights)):  # the kernel updates C-contiguous parameters in place
            if not self.weights[l].flags.c_contiguous or not self.biases[l].flags.c_contiguous:
                self.weights[l] = np.ascontiguousarray(self.weights[l])
                self.biases[l] = np.ascontiguousarray(self.biases[l])
        w_tuple, b_tuple = tuple(self.weights), tuple(self.biases)
        ws_full = _Workspace(self.sizes, m, self.dtype, gather_rows)
        ws_last = _Workspace(self.sizes, n % m, self.dtype, gather_rows) if n % m else None
        bias_rows = [b.T for b in self.biases]  # (1, n) views: updated in place with the biases
        decay = 1.0 - eta * (lmbda / n)
        updates = 0
        interrupted = False
        try:
            with _Interrupt() as stop, np.errstate(over="ignore"):
                for j in range(epochs):
                    t0 = time.perf_counter()
                    saved = ([w.copy() for w in self.weights], [b.copy() for b in self.biases])
                    perm = self.rng.permutation(n)
                    if kernel is not None:
                        step = m * _NUMBA_CHUNK
                        for k in range(0, n, step):
                            kernel(data, gather_rows, targets, perm, k, min(n, k + step), m, w_tuple, b_tuple, eta, decay, quadratic)
                            updates += (min(n, k + step) - k + m - 1) // m
                            if stop.hit:
                                interrupted = True
                                break
                    else:
                        for k in range(0, n, m):
                            idx = perm[k : k + m]
                            ws = ws_full if idx.shape[0] == m else ws_last
                            if gather_rows:
                                np.take(rows, idx, axis=0, out=ws.A[0])
                            else:  # X was C-ordered (D, N): gather columns, use the transposed buffer
                                np.take(cols, idx, axis=1, out=ws.A0T)
                            np.take(targets, idx, axis=0, out=ws.Y)
                            self._backprop_ws(ws, eta / ws.m)
                            for w, b, gw, gb in zip(self.weights, bias_rows, ws.gW, ws.gb):
                                if lmbda:
                                    w *= decay
                                w -= gw
                                b -= gb
                            updates += 1
                            if stop.hit:
                                interrupted = True
                                break
                    if not all(np.isfinite(w).all() for w in self.weights) or not all(np.isfinite(b).all() for b in self.biases):
                        for p, q in zip(self.weights + self.biases, saved[0] + saved[1]):
                            np.copyto(p, q)
                        raise FloatingPointError(
                            f"the parameters stopped being finite in epoch {j} (eta={eta} too large?); "
                            f"restored the parameters from the start of epoch {j}"
                        )
                    if interrupted:
                        break
                    lines = []
                    if "training_cost" in wanted:
                        hist["training_cost"].append(self._total_cost(train, lmbda))
                        lines.append(f"Cost on training data: {hist['training_cost'][-1]}")
                    if "training_accuracy" in wanted:
                        hist["training_accuracy"].append(self._correct(train))
                        lines.append(f"Accuracy on training data: {hist['training_accuracy'][-1]} / {n}")
                    if "test_cost" in wanted:
                        hist["test_cost"].append(self._total_cost(test, lmbda))
                        lines.append(f"Cost on test data: {hist['test_cost'][-1]}")
                    if "test_accuracy" in wanted:
                        hist["test_accuracy"].append(self._correct(test))
                    hist["epochs"].append(j)
                    hist["elapsed"].append(time.perf_counter() - t0)
                    if verbose:
                        if "test_accuracy" in wanted:
                            write(f"Epoch {j}: {hist['test_accuracy'][-1]} / {test.n}")
                        else:
                            write(f"Epoch {j} complete")
                        for line in lines:
                            write(line)
                    if bar is not None:
                        bar.update(1)
                        if "test_accuracy" in wanted:
                            bar.set_postfix(test=f"{100 * hist['test_accuracy'][-1] / test.n:.2f}%")
        except KeyboardInterrupt:  # off the main thread no handler is installed
            interrupted = True
        finally:
            if bar is not None:
                bar.close()
        return TrainingHistory(
            epochs=tuple(hist["epochs"]),
            training_cost=tuple(hist["training_cost"]),
            training_accuracy=tuple(hist["training_accuracy"]),
            test_cost=tuple(hist["test_cost"]),
            test_accuracy=tuple(hist["test_accuracy"]),
            elapsed=tuple(hist["elapsed"]),
            n_train=n,
            n_test=0 if test is None else test.n,
            n_updates=updates,
            interrupted=interrupted,
        )

    # ---- files ------------------------------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the network to ``path`` as JSON (``network2.py``'s keys ``sizes``, ``weights``,
        ``biases``, ``cost``, plus ``dtype``, ``init`` and the generator state, so a loaded network
        continues to shuffle exactly as this one would). Atomic: a temporary file in the same
        folder, flushed and fsynced, then ``os.replace``. Floats are written exactly (repr)."""
        path = _check_path("path", path)
        doc = {
            "format": _FORMAT,
            "sizes": self.sizes,
            "weights": [w.tolist() for w in self.weights],
            "biases": [b.tolist() for b in self.biases],
            "cost": self.cost,
            "dtype": str(self.dtype),
            "init": self.init,
            "rng": self.rng.bit_generator.state,
        }
        write_text(path, json.dumps(doc, allow_nan=False))

    @classmethod
    def load(cls, path: Any) -> "Network":
        """Read a network written by :meth:`save` (or by ``network2.py``'s ``save``)."""
        path = _check_path("path", path)
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"path {path!r} is not a network JSON file: {exc}") from None
        if not isinstance(doc, dict) or not {"sizes", "weights", "biases", "cost"} <= doc.keys():
            raise ValueError(f"path {path!r} is not a network JSON file: expected the keys sizes, weights, biases, cost")
        cost = _COST_ALIASES.get(doc["cost"], doc["cost"])
        dtype = np.dtype(doc.get("dtype", "float64"))
        net = cls(doc["sizes"], cost=cost, seed=0, dtype=dtype, init=doc.get("init", "standard"))
        if len(doc["weights"]) != len(net.weights) or len(doc["biases"]) != len(net.biases):
            raise ValueError(f"path {path!r}: the number of weight/bias arrays does not match sizes {net.sizes}")
        for l in range(len(net.weights)):
            w = np.array(doc["weights"][l], dtype=np.float64)
            b = np.array(doc["biases"][l], dtype=np.float64)
            if w.shape != net.weights[l].shape or b.shape != net.biases[l].shape:
                raise ValueError(
                    f"path {path!r}: layer {l} has weights {w.shape} and biases {b.shape}, "
                    f"expected {net.weights[l].shape} and {net.biases[l].shape} for sizes {net.sizes}"
                )
            _check_finite(f"weights[{l}] in {path!r}", w)
            _check_finite(f"biases[{l}] in {path!r}", b)
            net.weights[l] = w.astype(dtype)
            net.biases[l] = b.astype(dtype)
        if "rng" in doc:
            state = doc["rng"]
            bitgen = getattr(np.random, state["bit_generator"])()
            bitgen.state = state
            net.rng = np.random.Generator(bitgen)
        else:
            net.rng = np.random.default_rng()
        return net
