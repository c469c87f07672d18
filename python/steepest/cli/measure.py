"""Measuring helpers shared by ``steepest bench``, ``steepest check``, ``steepest info``, the tour,
the scripts in ``bench/`` and the tests: timing, the floors a loss pass is compared with, the
CIFAR-shaped workload and the NumPy baseline.

Nothing here prints; callers decide what to report. Times are wall-clock seconds.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
import warnings
from collections.abc import Callable, Collection, Iterator

import numpy as np

from .. import _backends

__all__ = [
    "median_time",
    "interleaved",
    "blas_threads",
    "reader",
    "read_floor",
    "loop_seconds",
    "loop_estimate",
    "multiply_add_rate",
    "compute_floor",
    "cifar_shaped",
    "numpy_svm_rows",
    "assignment_svm_train",
    "step_roofline",
]


def median_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


#: OpenBLAS's worker threads spin for about 0.1 s after each multi-threaded call before they sleep
#: (its THREAD_TIMEOUT, 2^28 cycles): a pass timed right after one shares the cores with them
#: (notes/KERNELS.md has the measurement). This pause outlasts the spin.
BLAS_SETTLE_S = 0.15


def interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int = 5,
    warmup: int = 1,
    check: Callable[[str, object], None] | None = None,
    settle: Collection[str] = (),
) -> dict[str, float]:
    """Median wall time of each ``fns[name]()`` over ``rounds`` rounds in which every candidate runs
    once, in turn (after ``warmup`` untimed rounds): a machine that slows down or speeds up during the
    measurement affects all candidates alike, so their ratios stay meaningful on a shared machine.
    ``check(name, result)``, when given, sees what every timed call returned, outside the timing (a
    benchmark that checks each run's result, or keeps it). The candidates named in ``settle`` use
    NumPy's multi-threaded BLAS: after each of their calls, untimed, a pause of ``BLAS_SETTLE_S`` lets
    its spinning threads sleep before the next candidate runs."""

    def run(name: str, fn: Callable[[], object]) -> tuple[float, object]:
        gc.collect()
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        if name in settle:
            time.sleep(BLAS_SETTLE_S)
        return seconds, result

    for _ in range(warmup):
        for name, fn in fns.items():
            run(name, fn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            seconds, result = run(name, fn)
            times[name].append(seconds)
            if check is not None:
                check(name, result)
            del result  # not alive during the next candidate's timing
    return {name: statistics.median(t) for name, t in times.items()}


@contextlib.contextmanager
def reader(X: np.ndarray, n_threads: int | None = None) -> Iterator[Callable[[], None]]:
    """A function that reads every byte of X once with ``n_threads`` threads (default: the library's
    thread count), each summing its own contiguous share (NumPy releases the GIL while it sums); its
    thread pool lives as long as the block. What :func:`read_floor` times, for other timers too."""
    from concurrent.futures import ThreadPoolExecutor

    threads = n_threads or _backends.get_num_threads()
    flat = X.reshape(-1, order="A")  # a view for C- or F-contiguous X: its bytes in memory order
    shares = np.array_split(flat, threads)
    with ThreadPoolExecutor(threads) as pool:

        def read() -> None:
            list(pool.map(np.add.reduce, shares))

        yield read


def read_floor(X: np.ndarray, n_threads: int | None = None, rounds: int = 5) -> float:
    """The memory floor of a pass over X: the median time to read every byte of X once with
    ``n_threads`` threads (see :func:`reader`). A single-threaded ``X.sum()`` is not a floor: one
    core cannot draw the machine's whole memory bandwidth."""
    with reader(X, n_threads) as read:
        return interleaved({"read": read}, rounds)["read"]


_blas_controller = None


@contextlib.contextmanager
def blas_threads(n: int | None = 1) -> Iterator[str]:
    """Run the block with NumPy's BLAS limited to ``n`` threads (threadpoolctl, the ``bench`` extra);
    yields the words that say how NumPy ran. ``None``, or no threadpoolctl, leaves BLAS at its default
    thread count, and the words say so (a caller labels its figure with them, never with "1 thread").

    The BLAS libraries are looked up once, at the first call (NumPy's is loaded by then): entering the
    block then costs microseconds, not the library scan of every ``threadpool_limits`` call, so the
    block may sit inside a timed function."""
    global _blas_controller
    if n is None:
        yield "NumPy with its default BLAS threads"
        return
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            ThreadpoolController = None
        if ThreadpoolController is None:  # outside the except: the block's own errors chain to nothing
            yield "NumPy with its default BLAS threads (threadpoolctl is not installed, so they could not be limited)"
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # threadpoolctl's notes on mixed OpenMP runtimes
            _blas_controller = ThreadpoolController()
    with _blas_controller.limit(limits=n, user_api="blas"):
        yield f"NumPy with {n} BLAS thread{'' if n == 1 else 's'} (threadpoolctl)"


def loop_seconds(f: Callable, W: np.ndarray, picks: list, h: float = 1e-5) -> float:
    """The time the notes' centered loop would take over all of W: the median time of the loop body
    (two evaluations of ``f``) over the weights ``picks``, each timed on its own, times W's size. The
    median, not the mean: one weight delayed by the machine's other work does not move it. The caller
    chooses NumPy's threads (see :func:`loop_estimate`)."""
    x = W.copy()
    times = []
    for ix in picks:  # the loop body of reference.eval_numerical_gradient_centered
        start = time.perf_counter()
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        (fxph - fxmh) / (2 * h)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * W.size


def loop_estimate(f: Callable, W: np.ndarray, picks: list, h: float = 1e-5) -> tuple[float, str]:
    """:func:`loop_seconds` with NumPy limited to one BLAS thread, after one untimed evaluation
    (first-touch page faults are never timed): ``(seconds, how)``, ``how`` starting with "estimate".

    One BLAS thread: the assignment's code per core, a baseline that does not depend on how many
    cores the machine has or how busy they are."""
    with blas_threads(1) as numpy_threads:
        f(W)
        seconds = loop_seconds(f, W, picks, h)
    how = (
        f"estimate: median over {len(picks)} sampled weights (2 loss evaluations each, timed one weight at a time) "
        f"x {W.size:,} weights; {numpy_threads}"
    )
    return seconds, how


# The highest peak rate read in this process, per thread count (see multiply_add_rate).
_peak_rates: dict[int, float] = {}


def multiply_add_rate(repeat: int = 5) -> float | None:
    """The machine's peak float64 multiply-adds per second with the current thread count: the highest
    of ``repeat`` probes on registers only and of every earlier reading in this process, or None
    without the C++ core. A busy spell can only lower a reading (one full ``steepest bench`` read
    half the peak at its training section, with another library's threads still spinning, and put
    the grid at 0.88x its "floor"), so the peak is a maximum, not a median."""
    if "cpp" not in _backends.backends():
        return None
    from .. import _core

    threads = _backends.get_num_threads()
    rate = max(max(_core.multiply_add_rate(threads, 0.1) for _ in range(repeat)), _peak_rates.get(threads, 0.0))
    _peak_rates[threads] = rate
    return rate


def compute_floor(n: int, d: int, c: int, rate: float) -> float:
    """Seconds for the 2 N D C multiply-adds of a loss + gradient (scores, then dW) at ``rate``:
    no kernel can be faster, whatever the memory (every multiply-add is in float64, also for
    float32 data, whose sums are accumulated in float64)."""
    return 2.0 * n * d * c / rate


def cifar_shaped(n: int, d: int = 3073, c: int = 10, seed: int = 0, dtype=np.float64):
    """Rows (N, D) (the assignment's layout), labels and W (C, D); X = rows.T is the (D, N)
    F-ordered view."""
    rng = np.random.default_rng(seed)
    rows = np.empty((n, d), dtype=dtype)
    for start in range(0, n, 5000):  # in blocks: no float64 temporary of the whole array
        stop = min(start + 5000, n)
        draw = np.float64 if dtype == np.float64 else np.float32
        rows[start:stop] = rng.standard_normal((stop - start, d), dtype=draw) * 50
    rows[:, -1] = 1.0
    y = rng.integers(0, c, n)
    W = (rng.standard_normal((c, d)) * 1e-4).astype(dtype)
    return rows, y, W


def numpy_svm_rows(W, rows, y, reg=0.0):
    """The CS231n assignment's vectorized SVM on (N, D) rows, with W (C, D) used as its (D, C)
    transpose: the speed baseline."""
    Wt = W.T
    n = rows.shape[0]
    S = rows @ Wt
    correct = S[np.arange(n), y][:, None]
    M = np.maximum(0, S - correct + 1.0)
    M[np.arange(n), y] = 0
    loss = M.sum() / n + reg * np.sum(W * W)
    coef = (M > 0).astype(rows.dtype)
    coef[np.arange(n), y] = -coef.sum(axis=1)
    return loss, (rows.T @ coef / n + 2 * reg * Wt).T


def assignment_svm_train(W, rows, y, steps: int, learning_rate: float, reg: float, batch_size: int) -> None:
    """``steps`` steps of the CS231n assignment's ``LinearClassifier.train`` for ``LinearSVM``, as the
    assignment writes them: ``np.random.choice(N, batch_size)`` (global RNG, with replacement),
    ``X_batch = X[idx]`` (a copy of the batch's rows), the vectorized loss and gradient, and
    ``W -= learning_rate * grad``. W (C, D) is updated in place; the caller chooses NumPy's threads."""
    num_train = rows.shape[0]
    for _ in range(steps):
        batch_idx = np.random.choice(num_train, batch_size)
        X_batch = rows[batch_idx]
        y_batch = y[batch_idx]
        _, grad = numpy_svm_rows(W, X_batch, y_batch, reg)
        W -= learning_rate * grad


def step_roofline(batch_size: int, d: int, c: int, itemsize: int, bandwidth: float, rate: float) -> tuple[float, float]:
    """The two floors of one mini-batch loss + gradient: (seconds to read the batch's ``batch_size``
    columns of D values at ``bandwidth`` bytes/s, seconds for its 2 B D C multiply-adds at ``rate``).
    The step's roofline R_step is the larger."""
    return batch_size * d * itemsize / bandwidth, compute_floor(batch_size, d, c, rate)
