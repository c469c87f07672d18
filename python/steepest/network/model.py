"""The network itself: parameters, forward passes, costs, back-propagation, JSON files.

:class:`Network` holds ``sizes``, ``weights``, ``biases``, ``cost``, ``dtype``, ``init`` and ``rng``; the
training loop behind :meth:`Network.SGD` is in :mod:`steepest.network.training`, the data forms in
:mod:`steepest.network.data`.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validate
from .._atomic import write_text
from .._validate import describe
from . import training
from .data import _as_data, _Data, _network_input
from .history import TrainingHistory
from .training import _Workspace

_COSTS = ("quadratic", "cross_entropy")
_INITS = ("standard", "scaled")
# network2.py saves its cost class's name; accept those files too.
_COST_ALIASES = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy"}
_FORMAT = "steepest.network/1"
_CHUNK = 2048  # examples per block when evaluating a whole data set (bounds the temporaries)


def sigmoid(z: Any) -> np.ndarray:
    """The sigmoid ``1 / (1 + exp(-z))``, elementwise (no overflow warning for very negative z)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def sigmoid_prime(z: Any) -> np.ndarray:
    """Derivative of the sigmoid, ``sigmoid(z) * (1 - sigmoid(z))``."""
    s = sigmoid(z)
    return s * (1 - s)


class Network:
    """A fully connected sigmoid network (Nielsen, chapter 1).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[784, 30, 10]``. At least 2 layers, each width >= 1.
    cost : {"quadratic", "cross_entropy"}
        The per-example cost (see :mod:`steepest.network`). The book's chapter 1 uses "quadratic".
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

    def __init__(
        self,
        sizes: Sequence[int],
        cost: str = "quadratic",
        seed: Any = None,
        dtype: Any = np.float64,
        init: str = "standard",
    ) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"sizes must be a list of layer widths like [784, 30, 10]; got {describe(sizes)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least 2 layers (input and output); got {list(sizes)}")
        self.sizes = [_validate.integer(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        for i, s in enumerate(self.sizes):
            if s < 1:
                raise ValueError(f"sizes[{i}] must be a positive layer width; got {s}")
        self.cost = _validate.choice(cost, "cost", _COSTS)
        self.init = _validate.choice(init, "init", _INITS)
        self.dtype = _validate.float_dtype(dtype)
        self.rng = _validate.rng(seed)
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
        a = _network_input(a, "a", self.dtype)
        n_in = self.sizes[0]
        if a.ndim not in (1, 2) or a.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if a.ndim == 2 and a.shape[1] == n_in else ""
            raise ValueError(
                f"a must have shape ({n_in}, N) or ({n_in},) to match the first layer; got {a.shape}{hint}"
            )
        _validate.finite(a, "a")
        with np.errstate(over="ignore"):
            for b, w in zip(self.biases, self.weights):
                z = w @ a
                z += b if a.ndim == 2 else b[:, 0]
                a = 1.0 / (1.0 + np.exp(-z))
        return a

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``argmax`` of the output, int64 (N,), for ``X`` of shape (sizes[0], N)
        (or (sizes[0],): one example, result of shape (1,))."""
        X = _network_input(X, "X", self.dtype)
        n_in = self.sizes[0]
        if X.ndim == 1 and X.shape[0] == n_in:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] != n_in:
            hint = " (did you pass X as (N, D)? use X.T)" if X.ndim == 2 and X.shape[1] == n_in else ""
            raise ValueError(f"X must have shape ({n_in}, N) to match the first layer; got {X.shape}{hint}")
        _validate.finite(X, "X")
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
        lmbda = _validate.real(lmbda, "lmbda", low=0.0)
        d = self._data("data", data, need_targets=True)
        return self._total_cost(d, lmbda)

    def _total_cost(self, d: _Data, lmbda: float) -> float:
        cost = self._cost_sum(d) / d.n
        if lmbda:
            squares = sum(float(np.sum(np.square(w, dtype=np.float64))) for w in self.weights)
            cost += 0.5 * (lmbda / d.n) * squares
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
        return training.sgd(
            self,
            training_data,
            epochs,
            mini_batch_size,
            eta,
            test_data=test_data,
            lmbda=lmbda,
            verbose=verbose,
            progress=progress,
            monitor=monitor,
            backend=backend,
        )

    # ---- files ------------------------------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the network to ``path`` as JSON (``network2.py``'s keys ``sizes``, ``weights``,
        ``biases``, ``cost``, plus ``dtype``, ``init`` and the generator state, so a loaded network
        continues to shuffle exactly as this one would). Atomic: a temporary file in the same
        folder, flushed and fsynced, then ``os.replace``. Floats are written exactly (repr)."""
        path = _validate.path(path, "path")
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
    def load(cls, path: Any) -> Network:
        """Read a network written by :meth:`save` (or by ``network2.py``'s ``save``)."""
        path = _validate.path(path, "path")
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"path {path!r} is not a network JSON file: {exc}") from None
        if not isinstance(doc, dict) or not {"sizes", "weights", "biases", "cost"} <= doc.keys():
            raise ValueError(
                f"path {path!r} is not a network JSON file: expected the keys sizes, weights, biases, cost"
            )
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
            try:
                _validate.finite(w, f"weights[{l}]")
                _validate.finite(b, f"biases[{l}]")
            except ValueError as exc:
                raise ValueError(f"path {path!r}: {exc}") from None
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
