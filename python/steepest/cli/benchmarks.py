"""The benchmark report behind ``steepest bench``: each operation, each backend, the reference, ratios.

Everything is measured side by side in one process on CIFAR-shaped synthetic data (D = 3073,
C = 10, N = 50,000 by default), as medians of repeated runs after a warm-up (JIT compilation is never
timed). Absolute times depend on the machine and its load; the ratios are what to compare.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import _backends, reference
from .._table import table


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


@dataclass
class Row:
    operation: str
    variant: str
    seconds: float
    baseline: str = ""
    ratio: float | None = None  # baseline time / this time (> 1 means faster than the baseline)
    target: str = ""


RELATIVE = ("memory floor", "compute floor", "one NumPy loss+grad", "one NumPy SVM loss")


def _ratio_text(row: Row) -> str:
    """'1.2x the time of' for targets stated as a budget, '350x faster' for speed-ups."""
    if row.ratio is None:
        return ""
    if row.baseline in RELATIVE:
        return f"{1.0 / row.ratio:.3g}x its time"
    return f"{row.ratio:.3g}x faster"


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def __str__(self) -> str:
        body = [(r.operation, r.variant, r.seconds, r.baseline, _ratio_text(r), r.target) for r in self.rows]
        return table(["operation", "variant", "seconds", "compared with", "ratio", "target"], body, title=self.title)

    def markdown(self) -> str:
        lines = ["| operation | variant | seconds | compared with | ratio | target |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.operation} | {r.variant} | {r.seconds:.4g} | {r.baseline} | {_ratio_text(r)} | {r.target} |")
        return "\n".join(lines)


def cifar_shaped(n: int, d: int = 3073, c: int = 10, seed: int = 0, dtype=np.float64):
    """Rows (N, D) (the assignment's layout) and labels; X = rows.T is the (D, N) F-ordered view."""
    rng = np.random.default_rng(seed)
    rows = np.empty((n, d), dtype=dtype)
    for start in range(0, n, 5000):  # in blocks: no float64 temporary of the whole array
        stop = min(start + 5000, n)
        rows[start:stop] = rng.standard_normal((stop - start, d), dtype=np.float64 if dtype == np.float64 else np.float32) * 50
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


def bench_losses(report: Report, n: int, repeat: int, backends: list[str], dtypes=("float64", "float32")) -> None:
    """Foundation figures: reading X (the memory floor), the multiply-adds at the machine's peak
    rate (the compute floor), the NumPy reference in both layouts, each backend's kernels."""
    from ..losses import SoftmaxLoss, SVMLoss

    rate = multiply_add_rate(repeat)  # the same for both dtypes: float32 data is multiplied in float64
    for dtype_name in dtypes:
        dtype = np.dtype(dtype_name)
        rows, y, W = cifar_shaped(n, dtype=dtype)
        XF = rows.T  # (D, N), F-ordered: the rows read in place
        XC = np.ascontiguousarray(XF)  # (D, N), C-ordered
        floor = median_time(lambda: XC.sum(), repeat)
        report.add("read X once (X.sum())", dtype_name, floor, target="memory floor")
        compute = compute_floor(n, XF.shape[0], W.shape[0], rate) if rate else None
        if compute is not None:
            report.add("2 N D C multiply-adds at peak rate", f"{rate / 1e9:.3g} G/s", compute, "memory floor",
                       floor / compute, "compute floor")
        t_rows = median_time(lambda: numpy_svm_rows(W, rows, y), repeat)
        report.add("NumPy vectorized SVM loss+grad", f"{dtype_name}, X as (N, D) rows", t_rows, "memory floor", floor / t_rows)
        if dtype == np.float64:
            t_cols = median_time(lambda: reference.svm_loss_vectorized(W, XC, y), repeat)
            report.add("NumPy vectorized SVM loss+grad", f"{dtype_name}, X as (D, N)", t_cols, "memory floor", floor / t_cols)
            t_soft = median_time(lambda: reference.softmax_loss_vectorized(W, XC, y), repeat)
            report.add("NumPy vectorized softmax loss+grad", f"{dtype_name}, X as (D, N)", t_soft, "memory floor", floor / t_soft)
        for name in backends:
            for order, X in (("C", XC), ("F", XF)):
                svm = SVMLoss(X, y, backend=name)
                soft = SoftmaxLoss(X, y, backend=name)
                t = median_time(lambda: svm.loss_grad(W), repeat)
                limit = "<= 1.3x floor" if name == "cpp" else ""
                report.add(f"{name} svm_loss_grad", f"{dtype_name}, {order}-order", t, "memory floor", floor / t, limit)
                if compute is not None:
                    report.add(f"{name} svm_loss_grad", f"{dtype_name}, {order}-order", t, "compute floor", compute / t)
                report.add(f"{name} svm_loss_grad", f"{dtype_name}, {order}-order", t, "NumPy on rows", t_rows / t, ">= 2.5x" if name == "cpp" else "")
                t = median_time(lambda: soft.loss_grad(W), repeat)
                report.add(f"{name} softmax_loss_grad", f"{dtype_name}, {order}-order", t, "memory floor", floor / t, "<= 1.5x floor" if name == "cpp" else "")
                if compute is not None:
                    report.add(f"{name} softmax_loss_grad", f"{dtype_name}, {order}-order", t, "compute floor", compute / t)
        rows = XC = XF = None
        gc.collect()


def bench_threads(report: Report, n: int, repeat: int) -> None:
    """Scaling of the C++ SVM kernel with N (float32) and with the thread count."""
    from ..losses import SVMLoss

    if "cpp" not in _backends.backends():
        return
    for size in (n // 10, n, 4 * n):
        rows, y, W = cifar_shaped(size, dtype=np.float32)
        loss = SVMLoss(rows.T, y, backend="cpp")
        times = {}
        for threads in (1, 2):
            with _backends.num_threads(threads):
                times[threads] = median_time(lambda: loss.loss_grad(W), repeat)
        report.add("cpp svm_loss_grad scaling", f"float32, N={size}, 1 thread", times[1], target="linear in N")
        report.add("cpp svm_loss_grad scaling", f"float32, N={size}, 2 threads", times[2], "1 thread", times[1] / times[2], ">= 1.7x")
        rows = loss = None
        gc.collect()


def bench_numerical_gradient(report: Report, n: int, repeat: int, backends: list[str], loop_sample: int = 20) -> None:
    """The full numerical gradient (all C*D weights) on each backend vs the notes' loop (extrapolated)."""
    from ..gradients import numerical_gradient
    from ..losses import SoftmaxLoss, SVMLoss

    rows, y, W = cifar_shaped(n)
    X = np.ascontiguousarray(rows.T)
    rows = None
    rng = np.random.default_rng(1)
    picks = [(int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1]))) for _ in range(loop_sample)]
    for kind, cls, ref in (("SVM", SVMLoss, reference.svm_loss_vectorized), ("softmax", SoftmaxLoss, reference.softmax_loss_vectorized)):
        one = median_time(lambda: ref(W, X, y), repeat)
        report.add(f"NumPy vectorized {kind} loss+grad", "float64, (D, N)", one)
        loop = loop_seconds(lambda V: ref(V, X, y)[0], W, picks)
        report.add(f"notes' loop, centered {kind}", f"extrapolated from {len(picks)} weights", loop)
        for name in backends:
            loss = cls(X, y, backend=name)
            t = median_time(lambda: numerical_gradient(loss, W), max(1, repeat // 2))
            target = {"SVM": "<= 1.5x one NumPy loss+grad", "softmax": "<= 4x one NumPy loss+grad"}[kind] if name == "cpp" else ""
            report.add(f"{name} numerical gradient, centered {kind}", "all weights, exact", t, "one NumPy loss+grad", one / t, target)
            report.add(f"{name} numerical gradient, centered {kind}", "all weights, exact", t, "the loop", loop / t,
                       ">= 10,000x" if name == "cpp" and kind == "SVM" else (">= 100x" if name == "numpy" else ""))


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


def run(n: int = 50_000, repeat: int = 5, sections=("losses", "threads", "gradients"), backends=None) -> Report:
    backends = backends or _backends.backends()
    report = Report(f"steepest benchmarks: D = 3073, C = 10, N = {n}, {_backends.get_num_threads()} threads; medians of {repeat}")
    if "losses" in sections:
        bench_losses(report, n, repeat, backends)
    if "threads" in sections:
        bench_threads(report, n, repeat)
    if "gradients" in sections:
        bench_numerical_gradient(report, n, repeat, backends)
    return report
