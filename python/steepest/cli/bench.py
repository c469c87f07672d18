"""``steepest bench``: the benchmark table for this machine, every backend against NumPy, the
reference and the two floors of a loss pass.

Everything is measured side by side in one process on CIFAR-shaped synthetic data (D = 3073,
C = 10, N = 50,000 by default), as medians of repeated runs after a warm-up (JIT compilation is never
timed). Absolute times depend on the machine and its load; the ratios are what to compare.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field

import numpy as np

from .. import _backends, reference
from .._optional import require
from .._table import table
from .measure import (
    cifar_shaped,
    compute_floor,
    interleaved,
    loop_seconds,
    median_time,
    multiply_add_rate,
    numpy_svm_rows,
    read_floor,
)

NAME = "bench"
HELP = "measure every backend against NumPy and the reference on CIFAR-shaped data (takes minutes)"

SECTIONS = ("losses", "threads", "gradients")


def add_arguments(parser) -> None:
    parser.add_argument("--n", type=int, default=50_000, help="number of examples (default 50,000, like CIFAR-10)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per measurement; the median is reported")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable)")
    parser.add_argument("--backend", action="append", help="benchmark only these backends (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run under a minute: N = 10,000, float64, losses only, 3 rounds"
    )


def run(args) -> int:
    if args.n < 100:
        raise ValueError(f"--n must be at least 100; got {args.n}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1; got {args.repeat}")
    backends = [_backends.resolve(b) for b in args.backend] if args.backend else None
    if args.quick:
        report = build_report(10_000, 3, ("losses",), backends, dtypes=("float64",))
    else:
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


#: baselines a time is stated as a multiple of ("1.4x R"); against the others it is a speed-up ("3x faster")
RELATIVE = ("R", "F-order", "svm", "cpp", "memory floor", "compute floor", "one NumPy loss+grad", "one NumPy SVM loss")


def _ratio_text(row: Row) -> str:
    """'<r>x R' against a floor or another time (targets stated as a budget), '<r>x faster' for speed-ups."""
    if row.ratio is None:
        return ""
    if row.baseline in RELATIVE:
        return f"{1.0 / row.ratio:.3g}x {row.baseline}"
    return f"{row.ratio:.3g}x faster" if row.ratio >= 1 else f"{1.0 / row.ratio:.3g}x slower"


def _status(row: Row) -> str:
    """'met' / 'missed' for a target '<= k...' (a budget: time / baseline) or '>= k...' (a speed-up)."""
    m = re.match(r"\s*(<=|>=)\s*([\d.,]+)", row.target)
    if row.ratio is None or not m:
        return ""
    k = float(m.group(2).replace(",", ""))
    ok = (1.0 / row.ratio <= k) if m.group(1) == "<=" else (row.ratio >= k)
    return "met" if ok else "missed"


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def __str__(self) -> str:
        body = [
            (r.operation, r.variant, r.seconds, r.baseline, _ratio_text(r), r.target, _status(r)) for r in self.rows
        ]
        head = ["operation", "variant", "seconds", "compared with", "ratio", "target", ""]
        return table(head, body, title=self.title)

    def markdown(self) -> str:
        lines = [
            "| operation | variant | seconds | compared with | ratio | target | |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.operation} | {r.variant} | {r.seconds:.4g} | {r.baseline} | {_ratio_text(r)} | {r.target} "
                f"| {_status(r)} |"
            )
        return "\n".join(lines)


def bench_losses(report: Report, n: int, repeat: int, backends: list[str], dtypes=("float64", "float32")) -> None:
    """Every backend's full loss+grad passes against the roofline R and the NumPy baselines.

    R = max(memory floor, compute floor): reading X once with all threads, or the 2 N D C
    multiply-adds at the machine's measured peak rate. Every candidate of a dtype runs once per round,
    in turn, for ``repeat`` rounds (medians): a shared machine's drift affects them alike. NumPy is
    timed with one BLAS thread and with its default.
    """
    from ..losses import SoftmaxLoss, SVMLoss

    threadpool_limits = require("threadpoolctl", "bench", "steepest bench", package="threadpoolctl").threadpool_limits

    rate = multiply_add_rate(repeat)  # the same for both dtypes: float32 data is multiplied in float64
    for dtype_name in dtypes:
        dtype = np.dtype(dtype_name)
        rows, y, W = cifar_shaped(n, dtype=dtype)
        XF = rows.T  # (D, N), F-ordered: the rows read in place
        XC = np.ascontiguousarray(XF)  # (D, N), C-ordered
        memory = read_floor(XF, rounds=repeat)
        compute = compute_floor(n, XF.shape[0], W.shape[0], rate) if rate else 0.0
        R = max(memory, compute)
        report.add("memory floor: read X once, all threads", dtype_name, memory)
        if compute:
            report.add("compute floor: 2 N D C multiply-adds at peak", f"{rate / 1e9:.3g} G/s", compute)
        report.add("R = max(memory floor, compute floor)", dtype_name, R)

        def one_blas_thread(fn=lambda: numpy_svm_rows(W, rows, y)):
            with threadpool_limits(1):
                fn()

        fns = {"baseline 1": one_blas_thread, "baseline default": lambda: numpy_svm_rows(W, rows, y)}
        for name in backends:
            for order, X in (("F", XF), ("C", XC)):
                for kind, cls in (("svm", SVMLoss), ("softmax", SoftmaxLoss)):
                    fns[f"{name} {kind} {order}"] = cls(X, y, backend=name).loss_grad
        t = interleaved({k: (f if k.startswith("baseline") else (lambda f=f: f(W))) for k, f in fns.items()}, repeat)
        numpy1 = t["baseline 1"]
        report.add("NumPy SVM loss+grad on (N, D) rows", f"{dtype_name}, 1 BLAS thread", numpy1, "R", R / numpy1)
        report.add(
            "NumPy SVM loss+grad on (N, D) rows",
            f"{dtype_name}, default BLAS",
            t["baseline default"],
            "R",
            R / t["baseline default"],
        )
        for name in backends:
            svmF, svmC = t[f"{name} svm F"], t[f"{name} svm C"]
            softF, softC = t[f"{name} softmax F"], t[f"{name} softmax C"]
            v = f"{dtype_name}"
            cpp = name == "cpp"
            report.add(f"{name} svm_loss_grad", f"{v}, F-order", svmF, "R", R / svmF, "<= 1.3x R" if cpp else "")
            report.add(f"{name} svm_loss_grad", f"{v}, F-order", svmF, "NumPy, 1 BLAS thread", numpy1 / svmF)
            report.add(f"{name} svm_loss_grad", f"{v}, C-order", svmC, "F-order", svmF / svmC, "<= 1.3x" if cpp else "")
            report.add(
                f"{name} softmax_loss_grad", f"{v}, F-order", softF, "svm", svmF / softF, "<= 1.3x" if cpp else ""
            )
            report.add(f"{name} softmax_loss_grad", f"{v}, C-order", softC, "R", R / softC)
            if name == "numba" and "cpp" in backends:
                report.add(f"{name} svm_loss_grad", f"{v}, F-order", svmF, "cpp", t["cpp svm F"] / svmF, "<= 2x")
                report.add(
                    f"{name} softmax_loss_grad", f"{v}, F-order", softF, "cpp", t["cpp softmax F"] / softF, "<= 2x"
                )
        rows = XC = XF = fns = None
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


def build_report(
    n: int = 50_000, repeat: int = 5, sections=SECTIONS, backends=None, dtypes=("float64", "float32")
) -> Report:
    """Measure the chosen sections on ``backends`` (default: every available one)."""
    backends = backends or _backends.backends()
    report = Report(
        f"steepest benchmarks: D = 3073, C = 10, N = {n}, {_backends.get_num_threads()} threads; "
        f"medians of {repeat} interleaved rounds"
    )
    if "losses" in sections:
        bench_losses(report, n, repeat, backends, dtypes)
    if "threads" in sections:
        bench_threads(report, n, repeat)
    if "gradients" in sections:
        bench_numerical_gradient(report, n, repeat, backends)
    return report
