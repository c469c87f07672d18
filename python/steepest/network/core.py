"""What chapter 1's and chapter 3's networks share: parameters, initialization, forward passes, back-propagation,
the book's per-mini-batch step, the metrics, the choice between the fused path and the book's path, and files.

:class:`BookNetwork` is the base of :class:`steepest.network.Network` (chapter 1, ``network.py``) and
:class:`steepest.network2.Network` (chapter 3, ``network2.py``). A subclass supplies the cost (``_cost_kind``,
``_output_delta``, ``_cost_fn``) and the book's SGD signature; everything else is here, written once.

**Two ways of running SGD.** When nothing the training step calls has been replaced (``update_mini_batch``,
``backprop``, chapter 1's ``cost_derivative``, chapter 3's cost class), :mod:`steepest.network.training` runs
the mini-batches in its fused kernel. Otherwise it calls ``self.update_mini_batch`` once per mini-batch with the
book's arguments, and the library's ``update_mini_batch`` calls ``self.backprop`` once per example, exactly the
book's structure, so an override sees the calls the book would make. Likewise the metrics go through the book's
per-example ``feedforward`` (and cost ``fn``) only when those have been replaced.

**Randomness.** Without a ``seed`` the network is the book's: initial weights come from ``np.random.randn`` in
the book's order (all biases, then all weights) and each epoch's order from ``random.shuffle`` (of an index list
of the training set's length, which draws the same permutation as shuffling the data), so a run seeded with
``np.random.seed(s); random.seed(s)`` follows the book's. With ``seed`` (an int or a ``numpy.random.Generator``)
steepest's own generator drives both and the global generators are left alone.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _untrusted, _validate
from .._atomic import write_text
from .._untrusted import FieldRangeError, FieldTypeError, UnreadableFileError
from .._validate import describe
from . import training
from .costs import cost_sums, sigmoid, sigmoid_prime
from .data import _as_data, _Data, _one_hot, network_input
from .training import _Workspace, kernel_for

_CHUNK = 2048  # examples per block when evaluating a whole data set (bounds the temporaries)
_FORMAT = "steepest.network/2"
_FORMATS = ("steepest.network/1", _FORMAT)  # /1 files differ only in their cost names, which are accepted
_BOOK_KEYS = ("sizes", "weights", "biases", "cost")
INITS = ("standard", "scaled")
_COST_CLASS_NAMES = {"quadratic": "QuadraticCost", "cross_entropy": "CrossEntropyCost"}


class BookNetwork:
    """The shared body of the book's two networks (see the module docstring); not used directly."""

    _steepest_library = True
    # The methods whose replacement sends SGD through the book's per-mini-batch calls.
    _TRAINING_METHODS: tuple[str, ...] = ("update_mini_batch", "backprop")

    # ---- construction -------------------------------------------------------------------------

    def _setup(self, sizes: Any, seed: Any, dtype: Any) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"sizes must be a list of layer widths like [784, 30, 10]; got {describe(sizes)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least 2 layers (input and output); got {list(sizes)}")
        checked = [_validate.integer(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        for i, s in enumerate(checked):
            if s < 1:
                raise ValueError(f"sizes[{i}] must be a positive layer width; got {s}")
        self.dtype = _validate.float_dtype(dtype)
        self.rng = None if seed is None else _validate.rng(seed)
        self.sizes = sizes if isinstance(sizes, list) and sizes == checked else checked
        self.num_layers = len(checked)
        self.history = None  # the TrainingHistory of the last SGD call
        self.biases: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []

    def _initialize(self, scaled: bool) -> None:
        """The book's initialization: every bias, then every weight, from N(0, 1); ``scaled`` divides the weights
        by sqrt(n_in) (``network2.py``'s default). Draws come from ``np.random.randn`` (book mode) or the
        network's generator, in float64, rounded to the network's dtype."""
        draw = np.random.randn if self.rng is None else (lambda *shape: self.rng.standard_normal(shape))
        sizes = [int(s) for s in self.sizes]
        biases = [draw(y, 1) for y in sizes[1:]]
        if scaled:
            weights = [draw(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
        else:
            weights = [draw(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
        self.biases = [b.astype(self.dtype, copy=False) for b in biases]
        self.weights = [w.astype(self.dtype, copy=False) for w in weights]

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    @property
    def _widths(self) -> list[int]:
        return [int(s) for s in self.sizes]

    # ---- what a subclass supplies -----------------------------------------------------------------

    def _cost_kind(self) -> str | None:  # pragma: no cover - abstract
        """ "quadratic" / "cross_entropy" when the output delta and the cost are the book's, else None."""
        raise NotImplementedError

    def _output_delta(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _cost_fn(self, a: np.ndarray, y: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _vectorized_cost(self) -> bool:
        """True when the cost of a data set may be computed for all examples at once."""
        return self._cost_kind() is not None

    # ---- which path ---------------------------------------------------------------------------------

    def _overridden(self, name: str) -> bool:
        """True when ``name`` comes from a user's subclass (or the instance), not from the library."""
        if name in vars(self):
            return True
        for klass in type(self).__mro__:
            if name in vars(klass):
                return not vars(klass).get("_steepest_library", False)
        return False

    def _fused_training(self) -> bool:
        """The fused kernel may run SGD: no training method replaced and the book's own cost."""
        return self._cost_kind() is not None and not any(self._overridden(m) for m in self._TRAINING_METHODS)

    def _batched_step(self) -> bool:
        """``update_mini_batch`` may back-propagate the mini-batch at once (``backprop`` and the cost are ours)."""
        return self._cost_kind() is not None and not any(
            self._overridden(m) for m in self._TRAINING_METHODS if m != "update_mini_batch"
        )

    def _vectorized_outputs(self) -> bool:
        return not self._overridden("feedforward")

    # ---- forward passes -----------------------------------------------------------------------

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
        """Yield (start, a, z) blocks of outputs (m, C) for a whole data set; ``z`` is None on the book's path
        (the outputs of a user's ``feedforward``, one example at a time)."""
        if self._vectorized_outputs():
            sparse = self._sparse_outputs(data)
            if sparse is not None:
                yield 0, sparse[0], sparse[1]
                return
            for k in range(0, data.n, _CHUNK):
                a, z = self._forward_rows(data.rows[k : k + _CHUNK])
                yield k, a, z
            return
        C = self._widths[-1]
        pairs = data.book_pairs(C)
        for k in range(0, data.n, _CHUNK):
            block = np.empty((min(_CHUNK, data.n - k), C), dtype=np.float64)
            for i in range(block.shape[0]):
                block[i] = np.asarray(self.feedforward(pairs[k + i][0]), dtype=np.float64).reshape(C)
            yield k, block, None

    def _sparse_outputs(self, data: _Data) -> tuple[np.ndarray, np.ndarray] | None:
        """Outputs (a, z) of a sparse data set from the Numba kernel, all examples at once; None when there is no
        kernel (or ``backend="numpy"``) or the data are dense."""
        kernels = None if data.backend == "numpy" else kernel_for("auto")
        sparse = None if kernels is None else data.csr(kernels)
        if sparse is None:
            return None
        weights_t = tuple(np.ascontiguousarray(np.asarray(w).T, dtype=self.dtype) for w in self.weights)
        biases = tuple(np.ascontiguousarray(np.asarray(b).reshape(-1), dtype=self.dtype) for b in self.biases)
        a = np.empty((data.n, self._widths[-1]), dtype=self.dtype)
        z = np.empty_like(a)
        kernels.forward_sparse(*sparse, weights_t, biases, a, z)
        return a, z

    def feedforward(self, a: Any) -> np.ndarray:
        """The output ``sigmoid(w_L @ ... sigmoid(w_1 @ a + b_1) ... + b_L)``.

        ``a`` has shape (sizes[0], 1) as in the book, (sizes[0],) or (sizes[0], N) (one example per
        column); float32 is accepted and converted exactly. The result has the matching shape with sizes[-1] rows.
        """
        a = network_input(a, "a", self.dtype)
        n_in = self._widths[0]
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
        X = network_input(X, "X", self.dtype)
        n_in = self._widths[0]
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

    # ---- data and metrics ---------------------------------------------------------------------------

    def _data(self, name: str, data: Any, need_targets: bool = False) -> _Data:
        w = self._widths
        return _as_data(name, data, w[0], w[-1], self.dtype, need_targets)

    def _labels(self, data: _Data) -> np.ndarray:
        return data.labels if data.labels is not None else np.argmax(data.targets, axis=1)

    def _targets(self, data: _Data, k: int, m: int) -> np.ndarray:
        if data.targets is not None:
            return data.targets[k : k + m]
        return _one_hot(data.labels[k : k + m], self._widths[-1], self.dtype)

    def _metrics(self, data: _Data, lmbda: float, cost: bool, correct: bool) -> tuple[float | None, int | None]:
        """The total cost (``network2.py``'s: mean C_x plus the L2 term) and the number classified correctly,
        from one pass over ``data``."""
        total = 0.0
        count = 0
        labels = self._labels(data) if correct else None
        vector_cost = self._vectorized_cost()
        kind = self._cost_kind()
        for k, a, z in self._outputs(data):
            m = a.shape[0]
            if correct:
                count += int(np.count_nonzero(np.argmax(a, axis=1) == labels[k : k + m]))
            if cost:
                y = self._targets(data, k, m)
                if vector_cost and z is not None:
                    total += cost_sums(kind, z, a, y)
                else:
                    for i in range(m):
                        total += float(self._cost_fn(a[i][:, None], y[i][:, None].astype(np.float64)))
        value = None
        if cost:
            value = total / data.n
            if lmbda:
                squares = sum(float(np.sum(np.square(w, dtype=np.float64))) for w in self.weights)
                value += 0.5 * (lmbda / data.n) * squares
        return value, (count if correct else None)

    def _correct(self, data: _Data) -> int:
        return self._metrics(data, 0.0, False, True)[1]

    def _total_cost(self, data: _Data, lmbda: float) -> float:
        return self._metrics(data, lmbda, True, False)[0]

    # ---- back-propagation -------------------------------------------------------------------

    def _train(self, train, epochs, m, eta, lmbda, wanted, held_out, measure, report, progress, backend, book_step):
        """Run SGD (fused, or through ``book_step`` when a training method is overridden), keep its
        history on the network as ``self.history`` and return it."""
        records, updates, interrupted = training.run(
            self,
            train,
            epochs,
            m,
            eta,
            lmbda,
            measure=measure,
            report=report,
            progress=progress,
            backend=backend,
            book_step=book_step,
        )
        n_held_out = 0 if held_out is None else held_out.n
        self.history = training.history(records, wanted, train.n, n_held_out, updates, interrupted)
        return self.history

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
        if self._cost_kind() == "quadratic":
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
        """The book's ``(nabla_b, nabla_w)``: the gradient of the cost C_x, layer by layer.

        ``x``: (sizes[0], 1) (the book's single example) or (sizes[0], m), one example per column.
        ``y``: the desired output (sizes[-1], 1), or (sizes[-1], m) float, or integer labels (m,) (or an int for
        one example). ``nabla_b[l]`` is (sizes[l+1], 1) and ``nabla_w[l]`` (sizes[l+1], sizes[l]): for a batch,
        the sums over its examples. With the book's cost the whole batch goes through at once (3 BLAS products
        per layer); with a user-written cost (or ``cost_derivative``) it is the book's algorithm, the output
        error coming from that cost.
        """
        if isinstance(y, numbers.Integral) and not isinstance(y, (bool, np.bool_)):
            y = np.array([y], dtype=np.int64)
        if not self._batched_step():
            return self._backprop_book(x, y)
        d = self._data("(x, y)", (x, y), need_targets=True)
        ws = _Workspace(self._widths, d.n, self.dtype)
        ws.A[0][...] = d.rows
        ws.Y[...] = d.targets
        with np.errstate(over="ignore"):
            self._backprop_ws(ws)
        return [gb[:, None] for gb in ws.gb], ws.gW

    def _backprop_book(self, x: Any, y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The book's ``backprop``, columns as examples, with the output error from ``_output_delta``."""
        w = self._widths
        x = network_input(x, "x", self.dtype)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[0] != w[0]:
            raise ValueError(f"x must have shape ({w[0]}, 1) to match the first layer; got {x.shape}")
        y = np.asarray(y)
        if y.ndim == 1 and y.dtype.kind in "iu":
            y = _one_hot(y, w[-1], np.float64).T
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (w[-1], x.shape[1]):
            raise ValueError(f"y must have shape ({w[-1]}, {x.shape[1]}) to match the last layer; got {y.shape}")
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(wt.shape) for wt in self.weights]
        activation = x
        activations = [x]
        zs = []
        with np.errstate(over="ignore"):
            for b, wt in zip(self.biases, self.weights):
                z = np.dot(wt, activation) + b
                zs.append(z)
                activation = sigmoid(z)
                activations.append(activation)
            delta = self._output_delta(zs[-1], activations[-1], y)
            nabla_b[-1] = delta.sum(axis=1, keepdims=True) if delta.shape[1] != 1 else delta
            nabla_w[-1] = np.dot(delta, activations[-2].transpose())
            for layer in range(2, self.num_layers):
                sp = sigmoid_prime(zs[-layer])
                delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sp
                nabla_b[-layer] = delta.sum(axis=1, keepdims=True) if delta.shape[1] != 1 else delta
                nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return nabla_b, nabla_w

    def _update(self, mini_batch: Any, eta: float, lmbda: float, n: Any) -> None:
        """The body of ``update_mini_batch``: one gradient step on the mini-batch (a list of ``(x, y)`` pairs).

        ``w <- (1 - eta lmbda / n) w - (eta / m) sum_x dC_x/dw``, ``b <- b - (eta / m) sum_x dC_x/db``. With the
        book's cost and ``backprop`` the mini-batch goes through back-propagation at once and the parameters are
        updated in place; otherwise ``self.backprop`` is called once per example and the sums and the update are
        the book's lines.
        """
        eta = _validate.positive(eta, "eta")
        lmbda = _validate.real(lmbda, "lmbda", low=0.0)
        if lmbda:
            n = _validate.integer(n, "n", low=1)
        if not self._batched_step():
            batch = list(mini_batch)
            if not batch:
                raise ValueError("mini_batch must hold at least one (x, y) pair; got none")
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            for x, y in batch:
                delta_nabla_b, delta_nabla_w = self.backprop(x, y)
                nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
                nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
            decay = (1 - eta * (lmbda / n)) if lmbda else 1.0
            step = eta / len(batch)
            self.weights = [
                ((decay * w if lmbda else w) - step * nw).astype(self.dtype, copy=False)
                for w, nw in zip(self.weights, nabla_w)
            ]
            self.biases = [(b - step * nb).astype(self.dtype, copy=False) for b, nb in zip(self.biases, nabla_b)]
            return
        d = self._data("mini_batch", mini_batch, need_targets=True)
        ws = _Workspace(self._widths, d.n, self.dtype)
        ws.A[0][...] = d.rows
        ws.Y[...] = d.targets
        with np.errstate(over="ignore"):
            self._backprop_ws(ws)
        decay = 1.0 - eta * (lmbda / n) if lmbda else 1.0
        step = eta / d.n
        for w, b, gw, gb in zip(self.weights, self.biases, ws.gW, ws.gb):  # the book's decay*w - step*nabla
            if lmbda:
                w *= decay
            gw *= step
            w -= gw
            gb *= step
            b -= gb[:, None]

    # ---- files ------------------------------------------------------------------------------

    def _document(self, cost_name: str, book_only: bool) -> dict:
        """``network2.py``'s JSON document (keys sizes, weights, biases, cost); unless ``book_only``, also what
        steepest needs to continue exactly (its format, the dtype, and the generator state of a seeded network)."""
        doc: dict[str, Any] = {
            "sizes": self._widths,
            "weights": [np.asarray(w).tolist() for w in self.weights],
            "biases": [np.asarray(b).tolist() for b in self.biases],
            "cost": cost_name,
        }
        if not book_only or self.dtype != np.float64 or self.rng is not None:
            doc["format"] = _FORMAT
            doc["dtype"] = str(self.dtype)
            if self.rng is not None:
                doc["rng"] = _untrusted.generator_state(self.rng)
        return doc

    def _write(self, path: Any, doc: dict, name: str = "path") -> None:
        path = _validate.path(path, name)
        write_text(path, json.dumps(doc, allow_nan=False))

    def _restore(self, saved: SavedNetwork) -> None:
        """Set this network's parameters (and generator) from a validated file (see :func:`read_network`)."""
        self.weights, self.biases, self.rng = list(saved.weights), list(saved.biases), saved.rng


@dataclass(frozen=True)
class SavedNetwork:
    """A network file, validated: what a loader builds its network from."""

    sizes: list[int]
    weights: list[np.ndarray]  # (sizes[l+1], sizes[l]), already in ``dtype``
    biases: list[np.ndarray]  # (sizes[l+1], 1)
    cost: Any  # the loader's value for the file's cost name
    dtype: np.dtype
    init: str
    rng: np.random.Generator | None  # None: a book-mode network


def read_network(path: Any, name: str, costs: dict[str, Any], cost_hint: str = "") -> SavedNetwork:
    """Read and validate a network JSON file (``network2.py``'s keys sizes, weights, biases, cost, and steepest's
    optional format, dtype, init, rng) before anything is allocated for it; other keys are ignored, as the book's
    ``load`` ignores them. ``costs`` maps the cost names the loader accepts to what it builds from them.

    Raises a :mod:`steepest._untrusted` error naming the file and the field (all ``ValueError``); OSError when
    the file cannot be opened. Draws nothing from any generator.
    """
    path = _validate.path(path, name)
    with open(path, "rb") as f:
        raw = f.read()
    fields = _untrusted.Fields(path, "network file (network2.py's keys: sizes, weights, biases, cost)")
    doc = _untrusted.parse_json(path, raw, None, f"a network JSON file (the {name} argument)")
    if not isinstance(doc, dict):
        raise UnreadableFileError(path, None, f"expected a JSON object with the keys {', '.join(_BOOK_KEYS)}")
    for key in _BOOK_KEYS:
        fields.get(doc, key)
    # the small fields first, then the parameters they describe
    if "format" in doc:
        fields.choice(doc["format"], "format", _FORMATS)
    sizes = _sizes(fields, doc["sizes"], len(raw))
    cost = fields.choice(doc["cost"], "cost", costs, cost_hint)
    dtype = np.dtype(fields.choice(doc.get("dtype", "float64"), "dtype", ("float32", "float64")))
    init = fields.choice(doc.get("init", "standard"), "init", INITS)
    rng = _untrusted.restore_generator(fields, doc["rng"], "rng") if "rng" in doc else None
    layers = list(zip(sizes[:-1], sizes[1:]))
    per_layer = f"arrays (one per layer of sizes {sizes})"
    listed = [fields.listing(doc[key], key, len(layers), per_layer) for key in ("weights", "biases")]
    weights, biases = [], []
    for l, ((n_in, n_out), w, b) in enumerate(zip(layers, *listed)):
        layer = f"layer {l} of sizes {sizes}"
        weights.append(_matrix(fields, w, f"weights[{l}]", (n_out, n_in), dtype, layer))
        biases.append(_matrix(fields, b, f"biases[{l}]", (n_out, 1), dtype, layer))
    return SavedNetwork(sizes, weights, biases, costs[cost], dtype, init, rng)


def _sizes(fields: _untrusted.Fields, value: Any, n_bytes: int) -> list[int]:
    """Layer widths: at least 2 positive ints whose parameters the file can hold (each number takes at least 2
    bytes of JSON), so huge sizes are refused here rather than by a MemoryError."""
    sizes = [fields.integer(s, f"sizes[{i}]", 1) for i, s in enumerate(fields.listing(value, "sizes"))]
    if len(sizes) < 2:
        raise FieldRangeError(fields.path, "sizes", f"must list at least 2 layers (input and output); got {sizes}")
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if 2 * n_params > n_bytes + 1:
        raise FieldRangeError(
            fields.path,
            "sizes",
            f"{sizes} need {n_params} weights and biases; the file ({n_bytes} bytes) cannot hold them",
        )
    return sizes


def _nested_shape(value: Any) -> str:
    """The shape a nested list seems to have (along its first items), for the "got ..." part of a message."""
    lengths = []
    while isinstance(value, list) and len(lengths) < 3:
        lengths.append(len(value))
        value = value[0] if value else None
    return str(tuple(lengths)) if lengths else type(value).__name__


def _matrix(
    fields: _untrusted.Fields, value: Any, field: str, shape: tuple[int, int], dtype: np.dtype, layer: str
) -> np.ndarray:
    """A nested list of ``shape`` numbers (never bools or strings), finite in ``dtype``, as an array of ``dtype``."""
    if not (
        isinstance(value, list)
        and len(value) == shape[0]
        and all(isinstance(row, list) and len(row) == shape[1] for row in value)
    ):
        got = _nested_shape(value)
        raise FieldTypeError(fields.path, field, f"expected a nested list of shape {shape} ({layer}); got {got}")
    for i, row in enumerate(value):
        for j, v in enumerate(row):
            if type(v) is not float:  # a bool, a str, or an int beyond float64 is refused here
                fields.number(v, f"{field}[{i}][{j}]")
    with np.errstate(over="ignore"):
        a = np.array(value, dtype=np.float64).astype(dtype, copy=False)
    finite = np.isfinite(a)
    if not finite.all():
        i, j = (int(k) for k in np.argwhere(~finite)[0])
        raise FieldRangeError(fields.path, f"{field}[{i}][{j}]", f"must be finite in {dtype}; got {value[i][j]!r}")
    return a


def cost_class_name(kind: str) -> str:
    return _COST_CLASS_NAMES[kind]
