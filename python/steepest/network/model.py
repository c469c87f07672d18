"""Chapter 1's network (the book's ``network.py``), on the shared body :class:`~steepest.network.core.BookNetwork`.

:class:`Network` holds ``sizes``, ``num_layers``, ``weights``, ``biases``, ``cost``, ``dtype``, ``init``, ``rng``
and ``history``; the training loop behind :meth:`Network.SGD` is in :mod:`steepest.network.training`, the data
forms in :mod:`steepest.network.data`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import _validate
from . import training
from .core import INITS, BookNetwork, cost_class_name, read_network
from .costs import CrossEntropyCost, QuadraticCost, sigmoid, sigmoid_prime

__all__ = ["Network", "sigmoid", "sigmoid_prime"]

_COSTS = ("quadratic", "cross_entropy")
_INITS = INITS
# network2.py saves its cost class's name; accept those files too.
_LOAD_COSTS = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy", **{c: c for c in _COSTS}}
_MONITORS = ("training_cost", "training_accuracy", "test_cost", "test_accuracy")
_COST_CLASSES = {"quadratic": QuadraticCost, "cross_entropy": CrossEntropyCost}


class Network(BookNetwork):
    """A fully connected sigmoid network (Nielsen, chapter 1: ``network.py``).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[784, 30, 10]``. At least 2 layers, each width >= 1.
    cost : {"quadratic", "cross_entropy"}
        The per-example cost (see :mod:`steepest.network`). The book's chapter 1 uses "quadratic".
    seed : None, int or numpy.random.Generator
        None (the default): the book's randomness, ``np.random.randn`` for the initial parameters and
        ``random.shuffle`` for each epoch's order, so ``np.random.seed(s); random.seed(s)`` reproduces the book's
        run. An int or a Generator: steepest's own generator drives both (a Generator is used and advanced as
        given) and the global generators are not touched.
    dtype : numpy.float32 or numpy.float64
        The parameters' dtype. Inputs of a dtype that converts exactly (float32 into float64) are accepted.
    init : {"standard", "scaled"}
        "standard": weights and biases from N(0, 1) (the book's chapter 1). "scaled": weights from
        N(0, 1/n_in), biases N(0, 1) (``network2.py``'s default). Draws are made in float64 and
        rounded to ``dtype``.

    Attributes ``weights`` and ``biases`` are lists of arrays shaped as in the book and updated in
    place by training; ``history`` is the :class:`TrainingHistory` of the last :meth:`SGD` call.
    """

    _steepest_library = True
    _TRAINING_METHODS = ("update_mini_batch", "backprop", "cost_derivative")

    def __init__(
        self,
        sizes: Any,
        cost: str = "quadratic",
        seed: Any = None,
        dtype: Any = np.float64,
        init: str = "standard",
    ) -> None:
        self._setup(sizes, seed, dtype)
        self.cost = _validate.choice(cost, "cost", _COSTS)
        self.init = _validate.choice(init, "init", _INITS)
        self._initialize(scaled=self.init == "scaled")

    def __repr__(self) -> str:
        return f"Network({self._widths}, cost={self.cost!r}, dtype=numpy.{self.dtype}, init={self.init!r})"

    # ---- the cost ------------------------------------------------------------------------------

    def _cost_kind(self) -> str | None:
        return self.cost

    def _output_delta(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.cost == "quadratic":
            return self.cost_derivative(a, y) * sigmoid_prime(z)
        return a - y

    def _cost_fn(self, a: np.ndarray, y: np.ndarray) -> float:
        return _COST_CLASSES[self.cost].fn(a, y)

    def cost_derivative(self, output_activations: Any, y: Any) -> Any:
        """The vector of partial derivatives dC_x/da of the quadratic cost: ``output_activations - y``."""
        return output_activations - y

    # ---- the book's methods ----------------------------------------------------------------

    def update_mini_batch(self, mini_batch: Any, eta: float, lmbda: float = 0.0, n: Any = None) -> None:
        """One gradient-descent step on ``mini_batch`` (a list of ``(x, y)`` pairs) with learning rate ``eta``.

        The book's update ``w <- w - (eta/m) sum_x dC_x/dw`` (and the biases alike); ``lmbda`` and ``n`` (the
        training set's size) add ``network2.py``'s L2 decay ``w <- (1 - eta lmbda/n) w - ...``.
        """
        self._update(mini_batch, eta, lmbda, n)

    def evaluate(self, test_data: Any) -> int:
        """Number of examples whose output's largest unit is the label (the book's ``evaluate``).

        ``test_data``: the book's list of ``(x, int)`` (or one-hot ``y``) pairs, or ``(X, y)``.
        """
        return self._correct(self._data("test_data", test_data))

    def accuracy(self, data: Any) -> float:
        """Fraction of ``data`` classified correctly (``evaluate(data) / n``)."""
        d = self._data("data", data)
        return self._correct(d) / d.n

    def total_cost(self, data: Any, lmbda: float = 0.0) -> float:
        """``network2.py``'s total cost: ``(1/n) sum_x C_x + lmbda/(2n) * sum ||w||^2``."""
        lmbda = _validate.real(lmbda, "lmbda", low=0.0)
        d = self._data("data", data, need_targets=True)
        return self._total_cost(d, lmbda)

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
    ) -> None:
        """Train by mini-batch stochastic gradient descent (the book's ``SGD``); returns None, as the book.

        Each epoch shuffles the order of the n training examples (``random.shuffle`` without a seed, the
        network's generator with one; ``training_data`` itself is never shuffled or modified), cuts it into
        mini-batches of ``mini_batch_size`` (the last one may be smaller, as in the book) and for each mini-batch
        B updates ``w <- (1 - eta*lmbda/n) w - (eta/|B|) sum_{x in B} dC_x/dw`` and
        ``b <- b - (eta/|B|) sum_{x in B} dC_x/db``.

        ``verbose`` prints the book's ``Epoch j: k / n`` after each epoch when ``test_data`` is given, else
        ``Epoch j complete``, plus one line per other monitored metric; ``progress=True`` shows a tqdm bar over
        the epochs (``pip install steepest[progress]``). ``monitor``: a subset of "training_cost",
        "training_accuracy", "test_cost", "test_accuracy" (default: test accuracy when ``test_data`` is given).

        ``backend``: "auto" (the Numba kernel when Numba imports, else NumPy), "numba" or "numpy"; the two agree
        to rounding. A subclass that replaces ``update_mini_batch``, ``backprop`` or ``cost_derivative`` is
        trained through its methods, one ``update_mini_batch`` call per mini-batch as in the book.

        What was measured is kept in ``self.history`` (a :class:`TrainingHistory`). Ctrl-C stops after the
        current mini-batch and keeps what was reached (``history.interrupted``).
        """
        verbose = _validate.boolean(verbose, "verbose")
        progress = _validate.boolean(progress, "progress")
        train = self._data("training_data", training_data, need_targets=True)
        epochs, m, eta, lmbda = training.check_hyperparameters(epochs, mini_batch_size, train.n, eta, lmbda)
        test = None if test_data is None else self._data("test_data", test_data)
        wanted = _monitored(monitor, test)
        backend = _validate.choice(backend, "backend", ("auto", "numba", "numpy"))
        for d in (train, test):
            if d is not None:
                d.backend = backend
        n = train.n

        def measure(j: int, t0: float) -> training._Epoch:
            train_cost, train_correct = None, None
            if wanted & {"training_cost", "training_accuracy"}:
                train_cost, train_correct = self._metrics(
                    train, lmbda, "training_cost" in wanted, "training_accuracy" in wanted
                )
            test_cost, test_correct = None, None
            if "test_accuracy" in wanted and self._overridden("evaluate"):
                test_correct = self.evaluate(test.book_pairs(self._widths[-1]))
                if "test_cost" in wanted:
                    test_cost = self._metrics(test, lmbda, True, False)[0]
            elif wanted & {"test_cost", "test_accuracy"}:
                test_cost, test_correct = self._metrics(test, lmbda, "test_cost" in wanted, "test_accuracy" in wanted)
            return training._Epoch(j, train_cost, train_correct, test_cost, test_correct, time.perf_counter() - t0)

        def report(record: training._Epoch, write: Any) -> None:
            if verbose:
                _report(record, n, test, write)

        def book_step(mini_batch: list) -> None:
            if lmbda:
                self.update_mini_batch(mini_batch, eta, lmbda, n)
            else:
                self.update_mini_batch(mini_batch, eta)

        self._train(train, epochs, m, eta, lmbda, wanted, test, measure, report, progress, backend, book_step)

    # ---- files ------------------------------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the network to ``path`` as JSON: ``network2.py``'s keys ``sizes``, ``weights``, ``biases`` and
        ``cost`` (the book's class name, so the book's ``network2.load`` reads the file), plus ``format``,
        ``dtype``, ``init`` and, for a seeded network, the generator state (a loaded network continues to shuffle
        exactly as this one would). Atomic: a temporary file in the same folder, flushed and fsynced, then
        ``os.replace``. Floats are written exactly (repr)."""
        doc = self._document(cost_class_name(self.cost), book_only=False)
        doc["init"] = self.init
        self._write(path, doc)

    @classmethod
    def load(cls, path: Any) -> Network:
        """Read a network written by :meth:`save` or by ``network2.py``'s ``save`` (its two cost classes).

        The whole file is validated before anything is allocated for it (a :mod:`steepest._untrusted` error,
        a ``ValueError``, names the file and the field at fault). A file without a generator state gives a network
        in book mode (``seed=None``); loading draws nothing from the global generators."""
        saved = read_network(path, "path", _LOAD_COSTS)
        # seed=0: the constructor's draws come from a private generator (the file's parameters replace them)
        net = cls(saved.sizes, cost=saved.cost, seed=0, dtype=saved.dtype, init=saved.init)
        net._restore(saved)
        return net


def _monitored(monitor: Any, test: Any) -> set[str]:
    """The metrics to measure after each epoch (default: test accuracy when there is test data)."""
    if monitor is None:
        return {"test_accuracy"} if test is not None else set()
    items = [monitor] if isinstance(monitor, str) else monitor
    try:
        items = list(items)
    except TypeError:
        raise TypeError(
            f"monitor must be a collection of names among {_MONITORS}; got {type(monitor).__name__}"
        ) from None
    wanted = {_validate.choice(s, "monitor item", _MONITORS) for s in items}
    if test is None and wanted & {"test_cost", "test_accuracy"}:
        raise ValueError(f"monitor asks for {sorted(wanted & {'test_cost', 'test_accuracy'})} but test_data is None")
    return wanted


def _report(record: training._Epoch, n: int, test: Any, write: Any) -> None:
    """The book's lines: ``Epoch j: k / n`` (or ``Epoch j complete``), then one line per other metric."""
    if record.test_accuracy is not None:
        write(f"Epoch {record.epoch}: {record.test_accuracy} / {test.n}")
    else:
        write(f"Epoch {record.epoch} complete")
    if record.training_cost is not None:
        write(f"Cost on training data: {record.training_cost}")
    if record.training_accuracy is not None:
        write(f"Accuracy on training data: {record.training_accuracy} / {n}")
    if record.test_cost is not None:
        write(f"Cost on test data: {record.test_cost}")
