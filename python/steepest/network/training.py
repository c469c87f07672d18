"""The training loop behind :meth:`steepest.network.Network.SGD`: mini-batch stochastic gradient descent.

An epoch draws a permutation of the n examples from the network's ``rng`` and cuts it into mini-batches, taken in
runs of 64. A run is applied either by the Numba kernel ``steepest._backends.numba.network.sgd_batches`` in one
call, or here in NumPy, one mini-batch at a time (``_Training.numpy_step``: gather the examples into a
:class:`_Workspace`, ``Network._backprop_ws``, update in place). After the epoch the monitored metrics are
measured, printed and recorded.

Ctrl-C is handled as everywhere in the library (:mod:`steepest._interrupt`): no signal handler; the
KeyboardInterrupt is caught around the epochs and SGD returns what it reached, marked interrupted. The parameters
live in three copies during training (:class:`_Slots`): a run updates a copy of the committed parameters and one
store of ``_Training.state = (slot, updates)`` commits it, so an update cut in half by Ctrl-C is never kept. At
Ctrl-C the run in flight is redone from the commit up to the end of its mini-batch in flight (the whole run with
Numba) and committed: SGD stops after the current mini-batch. When training ends, however it ends, the committed
copy is copied into the network's own ``weights`` and ``biases`` arrays.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import _validate
from .._interrupt import StopOnCtrlC, finish
from .._optional import progress_bar
from .._validate import describe
from .history import TrainingHistory

_MONITORS = ("training_cost", "training_accuracy", "test_cost", "test_accuracy")
_RUN = 64  # mini-batches per committed run (one call of the Numba kernel): Ctrl-C is seen within ~3 ms


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


class _Slots:
    """Three C-contiguous copies of a network's parameters, shaped as ``weights`` and ``biases``.

    Slots 0 and 1 take turns holding the committed parameters (a run copies the committed slot to the other one
    and updates that); slot 2 keeps the parameters at the start of the epoch, restored when they stop being finite.
    """

    SAVED = 2

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], dtype: np.dtype) -> None:
        self.weights = [[np.array(w, dtype=dtype, order="C") for w in weights] for _ in range(3)]
        self.biases = [[np.array(b, dtype=dtype, order="C") for b in biases] for _ in range(3)]
        self.bias_rows = [[b.T for b in slot] for slot in self.biases]  # (1, n) views of the (n, 1) biases
        self.tuples = [(tuple(w), tuple(b)) for w, b in zip(self.weights, self.biases)]  # the Numba kernel's form

    def copy(self, src: int, dst: int) -> None:
        for p, q in zip(self.weights[dst] + self.biases[dst], self.weights[src] + self.biases[src]):
            np.copyto(p, q)

    def finite(self, slot: int) -> bool:
        return all(_validate.all_finite(p) for p in self.weights[slot] + self.biases[slot])


class _Epoch(NamedTuple):
    """One epoch's record; a metric not monitored is None."""

    epoch: int
    training_cost: float | None
    training_accuracy: int | None
    test_cost: float | None
    test_accuracy: int | None
    elapsed: float


def sgd(
    net: Any,
    training_data: Any,
    epochs: int,
    mini_batch_size: int,
    eta: float,
    *,
    test_data: Any,
    lmbda: float,
    verbose: bool,
    progress: bool,
    monitor: Any,
    backend: str,
) -> TrainingHistory:
    """:meth:`Network.SGD` (documented there): check everything, then train epoch by epoch."""
    epochs = _validate.integer(epochs, "epochs", low=1)
    eta = _validate.positive(eta, "eta")
    lmbda = _validate.real(lmbda, "lmbda", low=0.0)
    verbose = _validate.boolean(verbose, "verbose")
    progress = _validate.boolean(progress, "progress")
    train = net._data("training_data", training_data, need_targets=True)
    m = _validate.integer(mini_batch_size, "mini_batch_size", low=1, high=train.n)
    test = None if test_data is None else net._data("test_data", test_data)
    wanted = _monitored(monitor, test)
    backend = _validate.choice(backend, "backend", ("auto", "numba", "numpy"))
    training = _Training(net, train, m, eta, lmbda, _kernel(backend))
    bar = progress_bar(progress, epochs, unit="epoch")
    records: list[_Epoch] = []
    ctrl_c = StopOnCtrlC()
    try:
        with ctrl_c, np.errstate(over="ignore"):
            for j in range(epochs):
                t0 = time.perf_counter()
                training.epoch(j)
                records.append(training.measure(j, t0, wanted, test))  # one append: the epoch is recorded or not
                if verbose:
                    _report(records[-1], train.n, test, bar.write)
                bar.update(1)
                if records[-1].test_accuracy is not None:
                    bar.set_postfix(test=f"{100 * records[-1].test_accuracy / test.n:.2f}%")
        if ctrl_c.interrupted:
            training.check_finite()  # stopped in an epoch that diverged: restore and raise, as at the end of an epoch
    finally:
        late = finish(training.publish)
        finish(bar.close)
    return _history(records, wanted, train.n, test, training.state[1], ctrl_c.interrupted or late)


def _monitored(monitor: Any, test: Any) -> set[str]:
    """The metrics to measure after each epoch (default: test accuracy when there is test data)."""
    if monitor is None:
        return {"test_accuracy"} if test is not None else set()
    items = [monitor] if isinstance(monitor, str) else monitor
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"monitor must be a collection of names among {_MONITORS}; got {describe(monitor)}") from None
    wanted = {_validate.choice(s, "monitor item", _MONITORS) for s in items}
    if test is None and wanted & {"test_cost", "test_accuracy"}:
        raise ValueError(f"monitor asks for {sorted(wanted & {'test_cost', 'test_accuracy'})} but test_data is None")
    return wanted


def _kernel(backend: str) -> Any:
    """The Numba kernel for "numba", and for "auto" when Numba imports; None for NumPy."""
    if backend == "numpy":
        return None
    try:
        from .._backends.numba.network import sgd_batches
    except ImportError as exc:
        if backend == "numba":
            raise ImportError(f"backend='numba' needs numba: pip install numba ({exc})") from None
        return None
    return sgd_batches


class _Training:
    """One call of SGD: the checked arguments, the mini-batch source, the parameter slots, the committed state."""

    def __init__(self, net: Any, train: Any, m: int, eta: float, lmbda: float, kernel: Any) -> None:
        self.net, self.train, self.m, self.eta, self.lmbda, self.kernel = net, train, m, eta, lmbda, kernel
        n = train.n
        self.decay = 1.0 - eta * (lmbda / n)
        # Mini-batches gather contiguous rows of (N, D) data, or contiguous columns of (D, N) data;
        # any other strides are copied once to rows here.
        rows = train.rows
        self.gather_rows = rows.flags.c_contiguous
        if not self.gather_rows and not rows.T.flags.c_contiguous:
            rows = np.ascontiguousarray(rows)
            self.gather_rows = True
        self.rows, self.cols = rows, rows.T
        self.data = rows if self.gather_rows else self.cols  # what the Numba kernel reads
        if kernel is None:
            self.ws_full = _Workspace(net.sizes, m, net.dtype, self.gather_rows)
            self.ws_last = _Workspace(net.sizes, n % m, net.dtype, self.gather_rows) if n % m else None
        self.own = (net.weights, net.biases)  # the network's lists, whose arrays receive the result
        self.slots = _Slots(net.weights, net.biases, net.dtype)
        self.state = (0, 0)  # (slot of the committed parameters, mini-batch updates): one store commits a run
        self.saved_updates = 0
        self.epoch_index = 0
        self.reached = 0  # the next mini-batch of the run in progress starts at perm[reached]

    # ---- the steps of an epoch --------------------------------------------------------------

    def epoch(self, j: int) -> None:
        """Epoch ``j``: keep its start, shuffle, run every mini-batch, check that the parameters are finite."""
        self.epoch_index = j
        slot, updates = self.state
        self.slots.copy(slot, _Slots.SAVED)
        self.saved_updates = updates
        perm = self.net.rng.permutation(self.train.n)
        step = self.m * _RUN
        for start in range(0, perm.shape[0], step):
            self.run(perm, start, min(perm.shape[0], start + step))
        self.show()
        self.check_finite()

    def run(self, perm: np.ndarray, start: int, stop: int) -> None:
        """The mini-batches ``perm[start:stop]``, applied to a copy of the committed parameters, then committed.

        At Ctrl-C the run is redone from the commit up to the end of the mini-batch in flight (the whole run with
        Numba, whose kernel cannot stop half way) and committed, and the KeyboardInterrupt goes on: the mini-batch
        in flight may have been half applied, and a kernel that completed may not have been committed yet.
        """
        slot, updates = self.state
        work = 1 - slot
        self.reached = start
        try:
            self.apply(perm, start, stop, slot, work)
        except KeyboardInterrupt:
            if self.kernel is None:
                stop = min(stop, self.reached + self.m)
            self.apply(perm, start, stop, slot, work)
            self.state = (work, updates + _batches(start, stop, self.m))
            raise
        self.state = (work, updates + _batches(start, stop, self.m))

    def apply(self, perm: np.ndarray, start: int, stop: int, slot: int, work: int) -> None:
        """Copy slot ``slot`` to slot ``work`` and update it by the mini-batches ``perm[start:stop]``."""
        slots, m = self.slots, self.m
        slots.copy(slot, work)
        if self.kernel is not None:
            weights, biases = slots.tuples[work]
            self.kernel(
                self.data,
                self.gather_rows,
                self.train.targets,
                perm,
                start,
                stop,
                m,
                weights,
                biases,
                self.eta,
                self.decay,
                self.net.cost == "quadratic",
            )
            return
        self.net.weights, self.net.biases = slots.weights[work], slots.biases[work]  # what _backprop_ws reads
        for k in range(start, stop, m):
            self.numpy_step(perm[k : k + m], slots.weights[work], slots.bias_rows[work])
            self.reached = k + m

    def numpy_step(self, idx: np.ndarray, weights: list[np.ndarray], bias_rows: list[np.ndarray]) -> None:
        """One mini-batch in NumPy: gather it, back-propagate (gradients times eta/|B|), update in place."""
        ws = self.ws_full if idx.shape[0] == self.m else self.ws_last
        if self.gather_rows:
            np.take(self.rows, idx, axis=0, out=ws.A[0])
        else:  # X was C-ordered (D, N): gather columns, use the transposed buffer
            np.take(self.cols, idx, axis=1, out=ws.A0T)
        np.take(self.train.targets, idx, axis=0, out=ws.Y)
        self.net._backprop_ws(ws, self.eta / ws.m)
        for w, b, gw, gb in zip(weights, bias_rows, ws.gW, ws.gb):
            if self.lmbda:
                w *= self.decay
            w -= gw
            b -= gb

    def show(self) -> None:
        """Point the network at the committed parameters (the metrics read them)."""
        slot = self.state[0]
        self.net.weights, self.net.biases = self.slots.weights[slot], self.slots.biases[slot]

    def check_finite(self) -> None:
        """Raise FloatingPointError, after restoring the start of the epoch, when a parameter is not finite."""
        if self.slots.finite(self.state[0]):
            return
        self.state = (_Slots.SAVED, self.saved_updates)
        self.show()
        j = self.epoch_index
        raise FloatingPointError(
            f"the parameters stopped being finite in epoch {j} (eta={self.eta} too large?); "
            f"restored the parameters from the start of epoch {j}"
        )

    def publish(self) -> None:
        """Copy the committed parameters into the network's own arrays and give it back its lists (idempotent)."""
        slot = self.state[0]
        weights, biases = self.own
        for own, p in zip(weights + biases, self.slots.weights[slot] + self.slots.biases[slot]):
            np.copyto(own, p)
        self.net.weights, self.net.biases = weights, biases

    # ---- after an epoch ---------------------------------------------------------------------

    def measure(self, j: int, t0: float, wanted: set[str], test: Any) -> _Epoch:
        """The monitored metrics of the committed parameters, in the book's order."""
        net, train, lmbda = self.net, self.train, self.lmbda
        return _Epoch(
            epoch=j,
            training_cost=net._total_cost(train, lmbda) if "training_cost" in wanted else None,
            training_accuracy=net._correct(train) if "training_accuracy" in wanted else None,
            test_cost=net._total_cost(test, lmbda) if "test_cost" in wanted else None,
            test_accuracy=net._correct(test) if "test_accuracy" in wanted else None,
            elapsed=time.perf_counter() - t0,
        )


def _batches(start: int, stop: int, m: int) -> int:
    return (stop - start + m - 1) // m


def _report(record: _Epoch, n: int, test: Any, write: Any) -> None:
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


def _history(
    records: list[_Epoch], wanted: set[str], n: int, test: Any, updates: int, interrupted: bool
) -> TrainingHistory:
    def column(name: str) -> tuple:
        return tuple(getattr(r, name) for r in records) if name in wanted else ()

    return TrainingHistory(
        epochs=tuple(r.epoch for r in records),
        training_cost=column("training_cost"),
        training_accuracy=column("training_accuracy"),
        test_cost=column("test_cost"),
        test_accuracy=column("test_accuracy"),
        elapsed=tuple(r.elapsed for r in records),
        n_train=n,
        n_test=0 if test is None else test.n,
        n_updates=updates,
        interrupted=interrupted,
    )
