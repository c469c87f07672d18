"""``steepest bench``: the benchmark table for this machine, every backend against NumPy, the
reference and the two floors of a loss pass.

Everything is measured side by side in one process on CIFAR-shaped synthetic data (D = 3073,
C = 10, N = 50,000 by default), as medians of repeated runs after a warm-up (JIT compilation is never
timed). Absolute times depend on the machine and its load; the ratios are what to compare.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import numpy as np

from .. import _backends, reference
from .._table import table
from .measure import cifar_shaped, compute_floor, loop_seconds, median_time, multiply_add_rate, numpy_svm_rows

NAME = "bench"
HELP = "measure every backend against NumPy and the reference on CIFAR-shaped data (takes minutes)"

SECTIONS = ("losses", "threads", "gradients")


def add_arguments(parser) -> None:
    parser.add_argument("--n", type=int, default=50_000, help="number of examples (default 50,000, like CIFAR-10)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per measurement; the median is reported")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable)")
    parser.add_argument("--backend", action="append", help="benchmark only these backends (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")


def run(args) -> int:
    if args.n < 100:
        raise ValueError(f"--n must be at least 100; got {args.n}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1; got {args.repeat}")
    backends = [_backends.resolve(b) for b in args.backend] if args.backend else None
    report = build_report(args.n, args.repeat, tuple(args.only or SECTIONS), backends)
    print(report.markdown() if args.markdown else report)
    return 0


# --- the report --------------------------------------------------------------------------------------


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
    """'<r>x its time' against a floor or unit (targets stated as a budget), '<r>x faster' for speed-ups."""
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
            lines.append(
                f"| {r.operation} | {r.variant} | {r.seconds:.4g} | {r.baseline} | {_ratio_text(r)} | {r.target} |"
            )
        return "\n".join(lines)


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
            report.add(
                "2 N D C multiply-adds at peak rate",
                f"{rate / 1e9:.3g} G/s",
                compute,
                "memory floor",
                floor / compute,
                "compute floor",
            )
        t_rows = median_time(lambda: numpy_svm_rows(W, rows, y), repeat)
        report.add(
            "NumPy vectorized SVM loss+grad", f"{dtype_name}, X as (N, D) rows", t_rows, "memory floor", floor / t_rows
        )
        if dtype == np.float64:
            t_cols = median_time(lambda: reference.svm_loss_vectorized(W, XC, y), repeat)
            report.add(
                "NumPy vectorized SVM loss+grad", f"{dtype_name}, X as (D, N)", t_cols, "memory floor", floor / t_cols
            )
            t_soft = median_time(lambda: reference.softmax_loss_vectorized(W, XC, y), repeat)
            report.add(
                "NumPy vectorized softmax loss+grad",
                f"{dtype_name}, X as (D, N)",
                t_soft,
                "memory floor",
                floor / t_soft,
            )
        for name in backends:
            for order, X in (("C", XC), ("F", XF)):
                svm = SVMLoss(X, y, backend=name)
                soft = SoftmaxLoss(X, y, backend=name)
                t = median_time(lambda: svm.loss_grad(W), repeat)
                limit = "<= 1.3x floor" if name == "cpp" else ""
                report.add(f"{name} svm_loss_grad", f"{dtype_name}, {order}-order", t, "memory floor", floor / t, limit)
                if compute is not None:
                    report.add(f"{name} svm_loss_grad", f"{dtype_name}, {order}-order", t, "compute floor", compute / t)
                report.add(
                    f"{name} svm_loss_grad",
                    f"{dtype_name}, {order}-order",
                    t,
                    "NumPy on rows",
                    t_rows / t,
                    ">= 2.5x" if name == "cpp" else "",
                )
                t = median_time(lambda: soft.loss_grad(W), repeat)
                report.add(
                    f"{name} softmax_loss_grad",
                    f"{dtype_name}, {order}-order",
                    t,
                    "memory floor",
                    floor / t,
                    "<= 1.5x floor" if name == "cpp" else "",
                )
                if compute is not None:
                    report.add(
                        f"{name} softmax_loss_grad", f"{dtype_name}, {order}-order", t, "compute floor", compute / t
                    )
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
        report.add(
            "cpp svm_loss_grad scaling",
            f"float32, N={size}, 2 threads",
            times[2],
            "1 thread",
            times[1] / times[2],
            ">= 1.7x",
        )
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
    for kind, cls, ref in (
        ("SVM", SVMLoss, reference.svm_loss_vectorized),
        ("softmax", SoftmaxLoss, reference.softmax_loss_vectorized),
    ):
        one = median_time(lambda: ref(W, X, y), repeat)
        report.add(f"NumPy vectorized {kind} loss+grad", "float64, (D, N)", one)
        loop = loop_seconds(lambda V: ref(V, X, y)[0], W, picks)
        report.add(f"notes' loop, centered {kind}", f"extrapolated from {len(picks)} weights", loop)
        for name in backends:
            loss = cls(X, y, backend=name)
            t = median_time(lambda: numerical_gradient(loss, W), max(1, repeat // 2))
            target = (
                {"SVM": "<= 1.5x one NumPy loss+grad", "softmax": "<= 4x one NumPy loss+grad"}[kind]
                if name == "cpp"
                else ""
            )
            report.add(
                f"{name} numerical gradient, centered {kind}",
                "all weights, exact",
                t,
                "one NumPy loss+grad",
                one / t,
                target,
            )
            report.add(
                f"{name} numerical gradient, centered {kind}",
                "all weights, exact",
                t,
                "the loop",
                loop / t,
                ">= 10,000x" if name == "cpp" and kind == "SVM" else (">= 100x" if name == "numpy" else ""),
            )


def build_report(n: int = 50_000, repeat: int = 5, sections=SECTIONS, backends=None) -> Report:
    """Measure the chosen sections on ``backends`` (default: every available one)."""
    backends = backends or _backends.backends()
    report = Report(
        f"steepest benchmarks: D = 3073, C = 10, N = {n}, {_backends.get_num_threads()} threads; medians of {repeat}"
    )
    if "losses" in sections:
        bench_losses(report, n, repeat, backends)
    if "threads" in sections:
        bench_threads(report, n, repeat)
    if "gradients" in sections:
        bench_numerical_gradient(report, n, repeat, backends)
    return report
