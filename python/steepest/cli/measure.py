"""Measuring helpers shared by ``steepest bench``, ``steepest check``, ``steepest info``, the tour,
the scripts in ``bench/`` and the tests: timing, the floors a loss pass is compared with, the
CIFAR-shaped workload and the NumPy baseline.

Nothing here prints; callers decide what to report. Times are wall-clock seconds.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

import numpy as np

from .. import _backends

__all__ = [
    "median_time",
    "interleaved",
    "read_floor",
    "loop_seconds",
    "multiply_add_rate",
    "compute_floor",
    "cifar_shaped",
    "numpy_svm_rows",
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


def interleaved(fns: dict[str, Callable[[], object]], rounds: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median wall time of each ``fns[name]()`` over ``rounds`` rounds in which every candidate runs
    once, in turn (after ``warmup`` untimed rounds): a machine that slows down or speeds up during the
    measurement affects all candidates alike, so their ratios stay meaningful on a shared machine."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def read_floor(X: np.ndarray, n_threads: int | None = None, rounds: int = 5) -> float:
    """The memory floor of a pass over X: the median time to read every byte of X once with
    ``n_threads`` threads (default: the library's thread count), each summing its own contiguous
    share (NumPy releases the GIL while it sums). A single-threaded ``X.sum()`` is not a floor: one
    core cannot draw the machine's whole memory bandwidth."""
    from concurrent.futures import ThreadPoolExecutor

    threads = n_threads or _backends.get_num_threads()
    flat = X.reshape(-1, order="A")  # a view for C- or F-contiguous X: its bytes in memory order
    shares = np.array_split(flat, threads)
    with ThreadPoolExecutor(threads) as pool:

        def read() -> None:
            list(pool.map(np.add.reduce, shares))

        return interleaved({"read": read}, rounds)["read"]


def loop_seconds(f: Callable, W: np.ndarray, picks: list, h: float = 1e-5) -> float:
    """The time the notes' centered loop would take over all of W, from the body run on ``picks``."""
    x = W.copy()
    start = time.perf_counter()
    for ix in picks:  # the loop body of reference.eval_numerical_gradient_centered
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        (fxph - fxmh) / (2 * h)
    return (time.perf_counter() - start) / len(picks) * W.size


def multiply_add_rate(repeat: int = 5) -> float | None:
    """The machine's peak float64 multiply-adds per second with the current thread count (median of
    ``repeat`` probes on registers only), or None without the C++ core."""
    if "cpp" not in _backends.backends():
        return None
    from .. import _core

    threads = _backends.get_num_threads()
    return statistics.median(_core.multiply_add_rate(threads, 0.1) for _ in range(repeat))


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
