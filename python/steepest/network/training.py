"""The training loop behind :meth:`steepest.network.Network.SGD`: mini-batch stochastic gradient descent.

An epoch draws a permutation of the n examples from the network's ``rng`` and cuts it into mini-batches. Each
mini-batch is back-propagated in matrix form and applied, either here in NumPy (``_Run.numpy_steps``: gather the
examples into a :class:`_Workspace`, ``Network._backprop_ws``, update) or, 64 mini-batches per call, by the Numba
kernel ``steepest._backends.numba.network.sgd_batches`` (``_Run.numba_steps``). Then the monitored metrics are
measured, printed and recorded.

Ctrl-C is handled as everywhere in the library (:mod:`steepest._interrupt`): no signal handler; the
KeyboardInterrupt is caught around the epochs and the run returns what it reached, marked interrupted. So that it
never leaves a half-applied update, the parameters live in three copies during a run (:class:`_Slots`): a step reads
the committed copy and writes another, and one store of ``_Run.state = (slot, updates)`` commits it. When the run
ends, however it ends, the committed copy is copied into the network's own ``weights`` and ``biases`` arrays.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from .. import _validate
from .._interrupt import StopOnCtrlC, finish
from .._optional import progress_bar
from .._validate import describe
from .history import TrainingHistory

_MONITORS = ("training_cost", "training_accuracy", "test_cost", "test_accuracy")
_NUMBA_CHUNK = 64  # mini-batches per call of the Numba kernel: Ctrl-C is seen within ~3 ms


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

    Slots 0 and 1 take turns holding the committed parameters (a step reads one and writes the other); slot 2
    keeps the parameters at the start of the epoch, restored when they stop being finite.
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
    run = _Run(net, train, m, eta, lmbda, _kernel(backend))
    bar = progress_bar(progress, epochs, unit="epoch")
    records: list[_Epoch] = []
    ctrl_c = StopOnCtrlC()
    try:
        with ctrl_c, np.errstate(over="ignore"):
            for j in range(epochs):
                t0 = time.perf_counter()
                run.epoch(j)
                records.append(run.measure(j, t0, wanted, test))  # one append: the epoch is recorded or not
                if verbose:
                    _report(records[-1], train.n, test, bar.write)
                bar.update(1)
                if records[-1].test_accuracy is not None:
                    bar.set_postfix(test=f"{100 * records[-1].test_accuracy / test.n:.2f}%")
        if ctrl_c.interrupted:
            run.check_finite()  # stopped in an epoch that diverged: restore and raise, as at the end of an epoch
    finally:
        late = finish(run.publish)
        finish(bar.close)
    return _history(records, wanted, train.n, test, run.state[1], ctrl_c.interrupted or late)


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


class _Run:
    """One training run: the checked arguments, the mini-batch source, the parameter slots, the committed state."""

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
        self.state = (0, 0)  # (slot of the committed parameters, mini-batch updates): one store commits a step
        self.saved_updates = 0
        self.epoch_index = 0

    # ---- the steps of an epoch --------------------------------------------------------------

    def epoch(self, j: int) -> None:
        """Epoch ``j``: keep its start, shuffle, run every mini-batch, check that the parameters are finite."""
        self.epoch_index = j
        slot, updates = self.state
        self.slots.copy(slot, _Slots.SAVED)
        self.saved_updates = updates
        perm = self.net.rng.permutation(self.train.n)
        if self.kernel is not None:
            self.numba_steps(perm)
        else:
            self.numpy_steps(perm)
        self.show()
        self.check_finite()

    def numpy_steps(self, perm: np.ndarray) -> None:
        """Every mini-batch of ``perm``: gather it, back-propagate (gradients times eta/|B|), update, commit."""
        net, slots, m, decay = self.net, self.slots, self.m, self.decay
        rows, cols, targets = self.rows, self.cols, self.train.targets
        for k in range(0, perm.shape[0], m):
            idx = perm[k : k + m]
            ws = self.ws_full if idx.shape[0] == m else self.ws_last
            if self.gather_rows:
                np.take(rows, idx, axis=0, out=ws.A[0])
            else:  # X was C-ordered (D, N): gather columns, use the transposed buffer
                np.take(cols, idx, axis=1, out=ws.A0T)
            np.take(targets, idx, axis=0, out=ws.Y)
            slot, updates = self.state
            new = 1 - slot
            net.weights, net.biases = slots.weights[slot], slots.biases[slot]  # what _backprop_ws reads
            net._backprop_ws(ws, self.eta / ws.m)
            for w, b, w_new, b_new, gw, gb in zip(
                slots.weights[slot], slots.bias_rows[slot], slots.weights[new], slots.bias_rows[new], ws.gW, ws.gb
            ):
                if self.lmbda:
                    np.multiply(w, decay, out=w_new)
                    w_new -= gw
                else:
                    np.subtract(w, gw, out=w_new)
                np.subtract(b, gb, out=b_new)
            self.state = (new, updates + 1)

    def numba_steps(self, perm: np.ndarray) -> None:
        """Every mini-batch of ``perm``, ``_NUMBA_CHUNK`` per kernel call, each call committed."""
        n, m = perm.shape[0], self.m
        quadratic = self.net.cost == "quadratic"
        step = m * _NUMBA_CHUNK
        for k in range(0, n, step):
            stop = min(n, k + step)
            slot, updates = self.state
            new = 1 - slot
            self.slots.copy(slot, new)  # the kernel updates in place
            weights, biases = self.slots.tuples[new]
            self.kernel(
                self.data, self.gather_rows, self.train.targets, perm, k, stop, m, weights, biases,
                self.eta, self.decay, quadratic,
            )
            self.state = (new, updates + (stop - k + m - 1) // m)

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
