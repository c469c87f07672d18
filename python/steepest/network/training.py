"""The SGD loop behind both networks' ``SGD``: shuffling, the fused path and the book's path, Ctrl-C, records.

:func:`run` trains epoch by epoch. Each epoch draws its order from a :class:`_Shuffler` (``random.shuffle`` of an
index list in book mode, the network's generator otherwise) and cuts it into mini-batches, then:

- **fused path** (:class:`_Fused`, when the network's training methods and cost are the library's): runs of 64
  mini-batches go through the Numba kernel ``steepest._backends.numba.network.sgd_batches`` in one call (sparse
  inputs read through their CSR form), or through NumPy one mini-batch at a time (``numpy_step``: gather, the
  network's ``_backprop_ws``, update in place);
- **book's path** (:class:`_BookPath`, when a subclass replaced ``update_mini_batch``, ``backprop``,
  ``cost_derivative`` or the cost): the chapter's ``book_step`` calls ``self.update_mini_batch`` with the book's
  arguments, once per mini-batch of the book's ``(x, y)`` pairs.

After the epoch the chapter's ``measure`` records the monitored metrics and its ``report`` prints them.

Ctrl-C is handled as everywhere in the library (:mod:`steepest._interrupt`): no signal handler; the
KeyboardInterrupt is caught around the epochs and SGD returns what it reached, marked interrupted. On the fused
path the parameters live in three copies (:class:`_Slots`): a run updates a copy of the committed parameters and
one store of ``_Fused.state = (slot, updates)`` commits it, so an update cut in half by Ctrl-C is never kept. At
Ctrl-C the run in flight is redone from the commit up to the end of its mini-batch in flight (the whole run with
Numba) and committed: SGD stops after the current mini-batch. When training ends, however it ends, the committed
copy is copied into the network's own ``weights`` and ``biases`` arrays.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import _validate
from .._interrupt import StopOnCtrlC, finish
from .._optional import progress_bar
from .._validate import describe
from .history import TrainingHistory

_RUN = 64  # mini-batches per committed run (one Numba kernel call); Ctrl-C redoes the run: seen in ~2 runs


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


class _Epoch(NamedTuple):
    """One epoch's record; a metric not monitored is None."""

    epoch: int
    training_cost: float | None
    training_accuracy: int | None
    test_cost: float | None
    test_accuracy: int | None
    elapsed: float


class _Shuffler:
    """Each epoch's order of the n training examples.

    Book mode (the network has no generator): ``random.shuffle`` of one index list kept for the whole SGD call,
    as the book shuffles its copy of the training list every epoch (the same draws give the same permutation).
    Seeded: a fresh permutation from the network's generator each epoch.
    """

    def __init__(self, rng: Any, n: int) -> None:
        self.rng = rng
        self.n = n
        self.order = list(range(n)) if rng is None else None

    def next(self) -> np.ndarray:
        if self.rng is None:
            random.shuffle(self.order)
            return np.array(self.order, dtype=np.int64)
        return self.rng.permutation(self.n)


def check_parameters(net: Any) -> None:
    """The network's ``weights`` and ``biases`` must be writable float arrays of the shapes ``sizes`` gives
    (book-style code may have replaced them); checked before training starts."""
    w = net._widths
    for name, params, shapes in (
        ("weights", net.weights, [(o, i) for i, o in zip(w[:-1], w[1:])]),
        ("biases", net.biases, [(o, 1) for o in w[1:]]),
    ):
        if not isinstance(params, list) or len(params) != len(shapes):
            raise TypeError(f"net.{name} must be a list of {len(shapes)} arrays; got {describe(params)}")
        for l, (p, shape) in enumerate(zip(params, shapes)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"net.{name}[{l}] must be a float numpy array; got {describe(p)}")
            if p.shape != shape:
                raise ValueError(f"net.{name}[{l}] must have shape {shape} for sizes {w}; got {p.shape}")
            if not p.flags.writeable:
                raise ValueError(f"net.{name}[{l}] must be writable (SGD updates it in place)")


def kernel_for(backend: str) -> Any:
    """The Numba kernel module for "numba", and for "auto" when Numba imports; None for NumPy."""
    if backend == "numpy":
        return None
    try:
        from .._backends.numba import network as kernels
    except ImportError as exc:
        if backend == "numba":
            raise ImportError(f"backend='numba' needs numba: pip install numba ({exc})") from None
        return None
    return kernels


def run(
    net: Any,
    train: Any,
    epochs: int,
    m: int,
    eta: float,
    lmbda: float,
    *,
    measure: Callable[[int, float], _Epoch],
    report: Callable[[_Epoch, Callable[[str], None]], None],
    progress: bool,
    backend: str,
    book_step: Callable[[list], None],
) -> tuple[list[_Epoch], int, bool]:
    """Train ``epochs`` epochs (arguments already checked); returns the records, the number of mini-batch updates
    and whether Ctrl-C stopped the run."""
    check_parameters(net)
    shuffler = _Shuffler(net.rng, train.n)
    if net._fused_training():
        path: Any = _Fused(net, train, m, eta, lmbda, kernel_for(backend))
    else:
        path = _BookPath(net, train, m, eta, book_step)
    bar = progress_bar(progress, epochs, unit="epoch")
    records: list[_Epoch] = []
    ctrl_c = StopOnCtrlC()
    try:
        with ctrl_c, np.errstate(over="ignore"):
            for j in range(epochs):
                t0 = time.perf_counter()
                path.epoch(j, shuffler.next())
                records.append(measure(j, t0))  # one append: the epoch is recorded or not
                report(records[-1], bar.write)
                bar.update(1)
                if records[-1].test_accuracy is not None:
                    bar.set_postfix(accuracy=str(records[-1].test_accuracy))
        if ctrl_c.interrupted:
            path.check_finite()  # stopped in an epoch that diverged: restore and raise, as at the end of an epoch
    finally:
        late = finish(path.publish)
        finish(bar.close)
    return records, path.updates, ctrl_c.interrupted or late


def history(
    records: list[_Epoch], wanted: set[str], n: int, n_test: int, updates: int, interrupted: bool
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
        n_test=n_test,
        n_updates=updates,
        interrupted=interrupted,
    )


def check_hyperparameters(
    epochs: Any, mini_batch_size: Any, n: int, eta: Any, lmbda: Any
) -> tuple[int, int, float, float]:
    """The SGD arguments every network checks before any work: epochs >= 1, 1 <= mini_batch_size <= n,
    eta > 0, lmbda >= 0."""
    epochs = _validate.integer(epochs, "epochs", low=1)
    eta = _validate.positive(eta, "eta")
    lmbda = _validate.real(lmbda, "lmbda", low=0.0)
    m = _validate.integer(mini_batch_size, "mini_batch_size", low=1, high=n)
    return epochs, m, eta, lmbda


def _batches(start: int, stop: int, m: int) -> int:
    return (stop - start + m - 1) // m


def _diverged(epoch: int, eta: float) -> FloatingPointError:
    return FloatingPointError(
        f"the parameters stopped being finite in epoch {epoch} (eta={eta} too large?); "
        f"restored the parameters from the start of epoch {epoch}"
    )


# ---- the book's path ------------------------------------------------------------------------------


class _BookPath:
    """One ``book_step`` (the user's ``update_mini_batch``, with the book's arguments) per mini-batch."""

    def __init__(self, net: Any, train: Any, m: int, eta: float, book_step: Callable[[list], None]) -> None:
        self.net, self.m, self.eta, self.book_step = net, m, eta, book_step
        self.pairs = train.book_pairs(net._widths[-1])
        self.updates = 0
        self.saved: tuple[list, list] | None = None
        self.epoch_index = 0

    def epoch(self, j: int, order: np.ndarray) -> None:
        self.epoch_index = j
        net, pairs, m = self.net, self.pairs, self.m
        self.saved = ([np.array(w) for w in net.weights], [np.array(b) for b in net.biases])
        self.saved_updates = self.updates
        order = order.tolist()
        for k in range(0, len(order), m):
            self.book_step([pairs[i] for i in order[k : k + m]])
            self.updates += 1
        self.check_finite()

    def check_finite(self) -> None:
        net = self.net
        if all(_validate.all_finite(np.asarray(p)) for p in list(net.weights) + list(net.biases)):
            return
        if self.saved is not None:
            net.weights, net.biases = self.saved
            self.updates = self.saved_updates
        raise _diverged(self.epoch_index, self.eta)

    def publish(self) -> None:
        pass


# ---- the fused path -------------------------------------------------------------------------------


class _Slots:
    """Three C-contiguous copies of a network's parameters.

    ``transposed`` (the Numba kernel's layout): weights as (n_in, n_out) and biases as (n_out,) vectors;
    otherwise as the network holds them, (n_out, n_in) and (n_out, 1). Slots 0 and 1 take turns holding the
    committed parameters (a run copies the committed slot to the other one and updates that); slot 2 keeps the
    parameters at the start of the epoch, restored when they stop being finite.
    """

    SAVED = 2

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], dtype: np.dtype, transposed: bool):
        self.transposed = transposed
        if transposed:
            self.weights = [[np.array(w.T, dtype=dtype, order="C") for w in weights] for _ in range(3)]
            self.biases = [[np.array(b.reshape(-1), dtype=dtype) for b in biases] for _ in range(3)]
            self.tuples = [(tuple(w), tuple(b)) for w, b in zip(self.weights, self.biases)]
        else:
            self.weights = [[np.array(w, dtype=dtype, order="C") for w in weights] for _ in range(3)]
            self.biases = [[np.array(b, dtype=dtype, order="C") for b in biases] for _ in range(3)]
            self.bias_rows = [[b.T for b in slot] for slot in self.biases]  # (1, n) views of the (n, 1) biases

    def copy(self, src: int, dst: int) -> None:
        for p, q in zip(self.weights[dst] + self.biases[dst], self.weights[src] + self.biases[src]):
            np.copyto(p, q)

    def finite(self, slot: int) -> bool:
        return all(_validate.all_finite(p) for p in self.weights[slot] + self.biases[slot])

    def book_view(self, slot: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The slot's parameters shaped as the network holds them (views, no copy)."""
        if self.transposed:
            return [w.T for w in self.weights[slot]], [b[:, None] for b in self.biases[slot]]
        return self.weights[slot], self.biases[slot]


class _Fused:
    """The fused path of one SGD call: the data in the kernel's form, the parameter slots, the committed state."""

    def __init__(self, net: Any, train: Any, m: int, eta: float, lmbda: float, kernels: Any) -> None:
        self.net, self.train, self.m, self.eta, self.lmbda, self.kernels = net, train, m, eta, lmbda, kernels
        n = train.n
        self.decay = 1.0 - eta * (lmbda / n)
        self.quadratic = net._cost_kind() == "quadratic"
        rows = train.rows
        if kernels is not None:
            self._prepare_kernel_data(rows)
        else:
            # Mini-batches gather contiguous rows of (N, D) data, or contiguous columns of (D, N) data;
            # any other strides are copied once to rows here.
            self.gather_rows = rows.flags.c_contiguous
            if not self.gather_rows and not rows.T.flags.c_contiguous:
                rows = np.ascontiguousarray(rows)
                self.gather_rows = True
            self.rows, self.cols = rows, rows.T
            self.ws_full = _Workspace(net._widths, m, net.dtype, self.gather_rows)
            self.ws_last = _Workspace(net._widths, n % m, net.dtype, self.gather_rows) if n % m else None
        self.own = (net.weights, net.biases)  # the network's lists, whose arrays receive the result
        self.slots = _Slots(net.weights, net.biases, net.dtype, transposed=kernels is not None)
        self.state = (0, 0)  # (slot of the committed parameters, mini-batch updates): one store commits a run
        self.saved_updates = 0
        self.epoch_index = 0
        self.reached = 0  # the next mini-batch of the run in progress starts at perm[reached]

    def _prepare_kernel_data(self, rows: np.ndarray) -> None:
        """The CSR form of the inputs when they are sparse enough, else the dense rows or columns as they are."""
        dtype = self.net.dtype
        sparse = self.train.csr(self.kernels)
        empty = np.zeros(0, dtype=np.int64)
        indptr, indices, values = sparse if sparse is not None else (empty, empty.astype(np.int32), empty.astype(dtype))
        dense = np.zeros((0, 0), dtype=dtype)
        by_rows = True
        if sparse is None:
            if rows.flags.c_contiguous:
                dense = rows
            elif rows.T.flags.c_contiguous:
                dense, by_rows = rows.T, False
            else:
                dense = np.ascontiguousarray(rows)
        self.kernel_data = (indptr, indices, values, dense, by_rows)

    @property
    def updates(self) -> int:
        return self.state[1]

    # ---- the steps of an epoch --------------------------------------------------------------

    def epoch(self, j: int, perm: np.ndarray) -> None:
        """Epoch ``j`` in the order ``perm``: keep its start, run every mini-batch, check the parameters."""
        self.epoch_index = j
        slot, updates = self.state
        self.slots.copy(slot, _Slots.SAVED)
        self.saved_updates = updates
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
            if self.kernels is None:
                stop = min(stop, self.reached + self.m)
            self.apply(perm, start, stop, slot, work)
            self.state = (work, updates + _batches(start, stop, self.m))
            raise
        self.state = (work, updates + _batches(start, stop, self.m))

    def apply(self, perm: np.ndarray, start: int, stop: int, slot: int, work: int) -> None:
        """Copy slot ``slot`` to slot ``work`` and update it by the mini-batches ``perm[start:stop]``."""
        slots, m = self.slots, self.m
        slots.copy(slot, work)
        if self.kernels is not None:
            weights_t, biases = slots.tuples[work]
            indptr, indices, values, dense, by_rows = self.kernel_data
            self.kernels.sgd_batches(
                indptr,
                indices,
                values,
                dense,
                by_rows,
                self.train.targets,
                perm,
                start,
                stop,
                m,
                weights_t,
                biases,
                self.eta,
                self.decay,
                self.quadratic,
            )
            return
        self.net.weights, self.net.biases = slots.weights[work], slots.biases[work]  # what _backprop_ws reads
        for k in range(start, stop, m):
            self.numpy_step(perm[k : k + m], slots.weights[work], slots.bias_rows[work])
            self.reached = k + m

    def numpy_step(self, idx: np.ndarray, weights: list[np.ndarray], bias_rows: list[np.ndarray]) -> None:
        """One mini-batch in NumPy: gather it, back-propagate, update in place as the book rounds it."""
        ws = self.ws_full if idx.shape[0] == self.m else self.ws_last
        if self.gather_rows:
            np.take(self.rows, idx, axis=0, out=ws.A[0])
        else:  # X was C-ordered (D, N): gather columns, use the transposed buffer
            np.take(self.cols, idx, axis=1, out=ws.A0T)
        np.take(self.train.targets, idx, axis=0, out=ws.Y)
        self.net._backprop_ws(ws)
        step = self.eta / ws.m
        for w, b, gw, gb in zip(weights, bias_rows, ws.gW, ws.gb):  # the book's rounding: decay*w - step*nabla
            if self.lmbda:
                w *= self.decay
            gw *= step
            w -= gw
            gb *= step
            b -= gb

    def show(self) -> None:
        """Point the network at the committed parameters (the metrics read them)."""
        self.net.weights, self.net.biases = self.slots.book_view(self.state[0])

    def check_finite(self) -> None:
        """Raise FloatingPointError, after restoring the start of the epoch, when a parameter is not finite."""
        if self.slots.finite(self.state[0]):
            return
        self.state = (_Slots.SAVED, self.saved_updates)
        self.show()
        raise _diverged(self.epoch_index, self.eta)

    def publish(self) -> None:
        """Copy the committed parameters into the network's own arrays and give it back its lists (idempotent)."""
        weights, biases = self.own
        new_w, new_b = self.slots.book_view(self.state[0])
        for own, p in zip(weights + biases, new_w + new_b):
            np.copyto(own, p, casting="same_kind")
        self.net.weights, self.net.biases = weights, biases
