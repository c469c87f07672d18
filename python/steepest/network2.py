"""Nielsen's network, chapter 3: ``network2.py``'s names and numbers, on the same fast core as chapter 1.

A reader of "Neural Networks and Deep Learning" changes one line of the book's code::

    import network2                              # the book
    from steepest import network2                # steepest: the same names, the same numbers

    >>> net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    >>> evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(
    ...     training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
    ...     monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
    ...     monitor_training_accuracy=True, monitor_training_cost=True)
    Epoch 0 training complete
    Cost on training data: ...

The module has the book's ``Network`` (``default_weight_initializer``, ``large_weight_initializer``,
``feedforward``, ``SGD``, ``update_mini_batch``, ``backprop``, ``accuracy``, ``total_cost``, ``save``),
``QuadraticCost``, ``CrossEntropyCost``, ``load``, ``vectorized_result``, ``sigmoid`` and ``sigmoid_prime``.
``SGD`` prints the book's lines and returns its four lists; ``accuracy`` returns the count, as the book's.
``save`` writes the book's JSON (the book's ``load`` reads it) and ``load`` reads the book's files.

Differences from the book, all where the book would crash or compute nonsense: arguments are checked before any
work (a ``convert`` flag that does not match the data's form raises ``ValueError``; the book would raise, or
compare labels with 0); ``training_data`` is never shuffled in place (the Python 3 ports of the book copy it too);
a cross-entropy term whose unit saturated at exactly 0 or 1 is computed from ``z`` (the book's ``nan_to_num``
gives 1.8e308 there).

Randomness, overrides, data forms and the fused path are as in :mod:`steepest.network` (``seed=None``: the book's
``np.random`` and ``random``; a user-written cost class, or a subclass replacing ``update_mini_batch`` or
``backprop``, is trained through its methods with the book's structure). Extra keyword arguments beyond the book's:
``Network(..., seed=, dtype=)`` and ``SGD(..., verbose=, progress=, backend=)``; ``net.history`` keeps a
:class:`~steepest.network.TrainingHistory` of the last ``SGD`` call.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import _validate
from .network import training
from .network.core import BookNetwork, read_network
from .network.costs import CrossEntropyCost, QuadraticCost, builtin_kind, check_cost_class, sigmoid, sigmoid_prime
from .network.data import _Data, vectorized_result

__all__ = [
    "CrossEntropyCost",
    "Network",
    "QuadraticCost",
    "load",
    "sigmoid",
    "sigmoid_prime",
    "vectorized_result",
]

# The cost names a file may give: the classes' (the book's files), and those of files written by
# steepest.network (chapter 1) before it used the class names.
_LOAD_COSTS = {
    "QuadraticCost": QuadraticCost,
    "CrossEntropyCost": CrossEntropyCost,
    "quadratic": QuadraticCost,
    "cross_entropy": CrossEntropyCost,
}
_OWN_COST_HINT = "; for your own cost, build Network(sizes, cost=YourCost) and set its weights"


class Network(BookNetwork):
    """The book's chapter 3 network: cross-entropy or quadratic cost, L2 regularization, scaled initialization.

    ``Network(sizes, cost=CrossEntropyCost)`` as in the book; ``cost`` is a cost class with static ``fn(a, y)``
    and ``delta(z, a, y)`` (the book's two, or one of yours). Keyword-only extras: ``seed`` (None: the book's
    ``np.random`` and ``random``; an int or a ``numpy.random.Generator``: steepest's) and ``dtype`` (float64 or
    float32). The constructor calls ``self.default_weight_initializer()``, as the book's does.
    """

    _steepest_library = True

    def __init__(self, sizes: Any, cost: Any = CrossEntropyCost, *, seed: Any = None, dtype: Any = np.float64) -> None:
        check_cost_class(cost)
        self._setup(sizes, seed, dtype)
        self.default_weight_initializer()
        self.cost = cost

    def __repr__(self) -> str:
        name = getattr(self.cost, "__name__", type(self.cost).__name__)
        return f"network2.Network({self._widths}, cost={name}, dtype=numpy.{self.dtype})"

    def default_weight_initializer(self) -> None:
        """Biases from N(0, 1); weights from N(0, 1) divided by sqrt(n_in), the number of inputs of the unit."""
        self._initialize(scaled=True)

    def large_weight_initializer(self) -> None:
        """Biases and weights from N(0, 1) (chapter 1's initialization, for comparison)."""
        self._initialize(scaled=False)

    # ---- the cost ------------------------------------------------------------------------------

    def _cost_kind(self) -> str | None:
        return builtin_kind(self.cost)

    def _output_delta(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.cost.delta(z, a, y)

    def _cost_fn(self, a: np.ndarray, y: np.ndarray) -> float:
        return self.cost.fn(a, y)

    # ---- the book's methods ----------------------------------------------------------------

    def update_mini_batch(self, mini_batch: Any, eta: float, lmbda: float, n: int) -> None:
        """One gradient step on ``mini_batch`` (a list of ``(x, y)``): learning rate ``eta``, regularization
        ``lmbda``, training set size ``n``: ``w <- (1 - eta lmbda/n) w - (eta/m) sum_x dC_x/dw``."""
        self._update(mini_batch, eta, lmbda, n)

    def _checked(self, data: Any, convert: Any, need_targets: bool, what: str) -> _Data:
        convert = _validate.boolean(convert, "convert")
        if isinstance(data, _Data):
            return data
        d = self._data("data", data, need_targets=need_targets)
        if d.int_labels is not None and d.int_labels == (convert if what == "accuracy" else not convert):
            form = "int labels" if d.int_labels else f"({self._widths[-1]}, 1) target vectors"
            raise ValueError(
                f"{what}(data, convert={convert}) does not match data whose y are {form}: pass convert={not convert} "
                f"(the book's convention: convert=True for the training data in accuracy, for validation/test data "
                f"in total_cost)"
            )
        return d

    def accuracy(self, data: Any, convert: bool = False) -> int:
        """The number of examples of ``data`` whose output's largest unit is the right digit (a count, as in the
        book). ``convert=False`` for validation/test data (int ``y``), True for training data (one-hot ``y``);
        arrays ``(X, y)`` are accepted too (``convert`` is then not needed)."""
        return self._correct(self._checked(data, convert, False, "accuracy"))

    def total_cost(self, data: Any, lmbda: float, convert: bool = False) -> float:
        """The book's total cost: the mean of the cost ``fn`` over ``data`` plus ``0.5 lmbda/n sum ||w||^2``.
        ``convert=False`` for training data (one-hot ``y``), True for validation/test data (int ``y``)."""
        lmbda = _validate.real(lmbda, "lmbda", low=0.0)
        return self._total_cost(self._checked(data, convert, True, "total_cost"), lmbda)

    def SGD(
        self,
        training_data: Any,
        epochs: int,
        mini_batch_size: int,
        eta: float,
        lmbda: float = 0.0,
        evaluation_data: Any = None,
        monitor_evaluation_cost: bool = False,
        monitor_evaluation_accuracy: bool = False,
        monitor_training_cost: bool = False,
        monitor_training_accuracy: bool = False,
        *,
        verbose: bool = True,
        progress: bool = False,
        backend: str = "auto",
    ) -> tuple[list[float], list[int], list[float], list[int]]:
        """Train by mini-batch SGD with L2 regularization ``lmbda``; returns the book's four per-epoch lists
        ``(evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)`` (empty when not monitored).

        After each epoch it prints ``Epoch j training complete`` and one line per monitored metric, then a blank
        line, as the book. ``verbose=False`` prints nothing; ``progress=True`` shows a tqdm bar; ``backend``:
        "auto", "numba" or "numpy". Ctrl-C stops after the current mini-batch and returns the lists reached
        (``self.history.interrupted`` says so).
        """
        flags = {
            "training_cost": _validate.boolean(monitor_training_cost, "monitor_training_cost"),
            "training_accuracy": _validate.boolean(monitor_training_accuracy, "monitor_training_accuracy"),
            "test_cost": _validate.boolean(monitor_evaluation_cost, "monitor_evaluation_cost"),
            "test_accuracy": _validate.boolean(monitor_evaluation_accuracy, "monitor_evaluation_accuracy"),
        }
        wanted = {k for k, v in flags.items() if v}
        verbose = _validate.boolean(verbose, "verbose")
        progress = _validate.boolean(progress, "progress")
        train = self._data("training_data", training_data, need_targets=True)
        epochs, m, eta, lmbda = training.check_hyperparameters(epochs, mini_batch_size, train.n, eta, lmbda)
        evaluation = None if evaluation_data is None else self._data("evaluation_data", evaluation_data)
        if evaluation is None and wanted & {"test_cost", "test_accuracy"}:
            raise ValueError("monitor_evaluation_cost / monitor_evaluation_accuracy need evaluation_data")
        backend = _validate.choice(backend, "backend", ("auto", "numba", "numpy"))
        for d in (train, evaluation):
            if d is not None:
                d.backend = backend
        n = train.n
        C = self._widths[-1]
        own_cost, own_accuracy = self._overridden("total_cost"), self._overridden("accuracy")

        def metrics(data: _Data, cost: bool, correct: bool, convert_cost: bool) -> tuple[Any, Any]:
            if not (cost or correct):
                return None, None
            if own_cost or own_accuracy:
                pairs = data.book_pairs(C)
                c = self.total_cost(pairs, lmbda, convert=convert_cost) if cost else None
                k = self.accuracy(pairs, convert=not convert_cost) if correct else None
                return c, k
            return self._metrics(data, lmbda, cost, correct)

        def measure(j: int, t0: float) -> training._Epoch:
            tc, ta = metrics(train, "training_cost" in wanted, "training_accuracy" in wanted, False)
            ec, ea = (None, None)
            if evaluation is not None:
                ec, ea = metrics(evaluation, "test_cost" in wanted, "test_accuracy" in wanted, True)
            return training._Epoch(j, tc, ta, ec, ea, time.perf_counter() - t0)

        def report(r: training._Epoch, write: Any) -> None:
            if not verbose:
                return
            write(f"Epoch {r.epoch} training complete")
            if r.training_cost is not None:
                write(f"Cost on training data: {r.training_cost}")
            if r.training_accuracy is not None:
                write(f"Accuracy on training data: {r.training_accuracy} / {n}")
            if r.test_cost is not None:
                write(f"Cost on evaluation data: {r.test_cost}")
            if r.test_accuracy is not None:
                write(f"Accuracy on evaluation data: {r.test_accuracy} / {evaluation.n}")
            write("")

        def book_step(mini_batch: list) -> None:
            self.update_mini_batch(mini_batch, eta, lmbda, n)

        h = self._train(train, epochs, m, eta, lmbda, wanted, evaluation, measure, report, progress, backend, book_step)
        return list(h.test_cost), list(h.test_accuracy), list(h.training_cost), list(h.training_accuracy)

    def save(self, filename: Any) -> None:
        """Save the network to ``filename`` in the book's JSON format (keys ``sizes``, ``weights``, ``biases``,
        ``cost``: the cost class's name), which the book's ``load`` reads. A seeded or float32 network adds the
        keys steepest needs to continue exactly (``format``, ``dtype``, ``rng``). Written atomically."""
        name = getattr(self.cost, "__name__", type(self.cost).__name__)
        self._write(filename, self._document(str(name), book_only=True), "filename")


def load(filename: Any) -> Network:
    """Load a network saved by :meth:`Network.save` (the book's or steepest's), as the book's ``load``: the cost is
    one of this module's two classes, named in the file. The whole file is validated before anything is allocated
    for it (a :mod:`steepest._untrusted` error, a ``ValueError``, names the file and the field at fault). A file
    without a generator state gives a book-mode network; unlike the book's ``load``, loading draws nothing from
    ``np.random`` (the book's construction draws initial weights that the file's then replace)."""
    saved = read_network(filename, "filename", _LOAD_COSTS, _OWN_COST_HINT)
    # seed=0: the constructor's draws come from a private generator (the file's parameters replace them)
    net = Network(saved.sizes, cost=saved.cost, seed=0, dtype=saved.dtype)
    net._restore(saved)
    return net
