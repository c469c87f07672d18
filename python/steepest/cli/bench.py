"""``steepest bench``: the benchmark table for this machine, every backend against NumPy, the
reference and the two floors of a loss pass; the training loop, the grid of ``tune`` and the search
strategies against theirs. Every target is printed with "met" or "missed".

Everything is measured side by side in one process on CIFAR-shaped synthetic data (D = 3073,
C = 10, N = 50,000 by default), as medians of repeated runs after a warm-up (JIT compilation is never
timed). Absolute times depend on the machine and its load; the ratios are what to compare.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from .. import _backends, reference
from .._optional import require
from .._table import table
from .measure import (
    assignment_svm_train,
    blas_threads,
    cifar_shaped,
    compute_floor,
    interleaved,
    loop_estimate,
    median_time,
    multiply_add_rate,
    numpy_svm_rows,
    read_floor,
    step_roofline,
)

NAME = "bench"
HELP = "measure every backend against NumPy and the reference on CIFAR-shaped data (takes minutes)"

SECTIONS = ("losses", "threads", "gradients", "training")

#: the assignment's LinearSVM training run (svm.ipynb): batch 200 drawn with replacement, lr 1e-7, reg 2.5e4
LR, REG, BATCH = 1e-7, 2.5e4, 200
#: the 5 x 5 (learning rate, reg) grid of the training section's ``tune`` rows
GRID_LRS = (5e-8, 1e-7, 2e-7, 5e-7, 1e-6)
GRID_REGS = (5e3, 1e4, 2.5e4, 5e4, 1e5)


def add_arguments(parser) -> None:
    parser.add_argument("--n", type=int, default=50_000, help="number of examples (default 50,000, like CIFAR-10)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per measurement; the median is reported")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable)")
    parser.add_argument("--backend", action="append", help="benchmark only these backends (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run under a minute: N = 10,000, float64, 3 rounds; losses, and training on cpp with fewer steps",
    )


def run(args) -> int:
    if args.n < 100:
        raise ValueError(f"--n must be at least 100; got {args.n}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1; got {args.repeat}")
    backends = [_backends.resolve(b) for b in args.backend] if args.backend else None
    if args.quick:
        report = build_report(10_000, 3, ("losses", "training"), backends, dtypes=("float64",), quick=True)
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
RELATIVE = (
    "R",
    "R_step",
    "F-order",
    "svm",
    "cpp",
    "memory floor",
    "compute floor",
    "one NumPy loss+grad",
    "one NumPy SVM loss",
    "one cpp loss+grad",
    "one cpp loss",
    "random search",
)


def _ratio_text(row: Row) -> str:
    """'<r>x R' against a floor or another time (targets stated as a budget), '<r>x faster' for speed-ups."""
    if row.ratio is None:
        return ""
    if row.baseline in RELATIVE:
        return f"{1.0 / row.ratio:.3g}x {row.baseline}"
    return f"{row.ratio:.3g}x faster" if row.ratio >= 1 else f"{1.0 / row.ratio:.3g}x slower"


_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


def _status(row: Row) -> str:
    """'met' / 'missed' for a target '<= k...' (a budget: time / baseline), '>= k...' (a speed-up) or
    '<= k µs' (a budget in time: the row's own seconds)."""
    m = re.match(r"\s*(<=|>=)\s*([\d.,]+)(?:\s*(µs|us|ms|s)(?!\w))?", row.target)
    if not m:
        return ""
    k = float(m.group(2).replace(",", ""))
    if m.group(3):
        seconds = k * _SECONDS[m.group(3)]
        ok = row.seconds <= seconds if m.group(1) == "<=" else row.seconds >= seconds
    elif row.ratio is None:
        return ""
    else:
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

    require("threadpoolctl", "bench", "steepest bench", package="threadpoolctl")  # NumPy at 1 BLAS thread

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
            with blas_threads(1):
                fn()

        fns = {"baseline 1": one_blas_thread, "baseline default": lambda: numpy_svm_rows(W, rows, y)}
        for name in backends:
            for order, X in (("F", XF), ("C", XC)):
                for kind, cls in (("svm", SVMLoss), ("softmax", SoftmaxLoss)):
                    fns[f"{name} {kind} {order}"] = cls(X, y, backend=name).loss_grad
        t = interleaved(
            {k: (f if k.startswith("baseline") else (lambda f=f: f(W))) for k, f in fns.items()},
            repeat,
            settle={"baseline default"},
        )
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
            if name == "numba" and "cpp" in backends:  # every layout and dtype: numba <= 2x cpp (issue 11)
                for kind, order, tk in (
                    ("svm", "F", svmF),
                    ("svm", "C", svmC),
                    ("softmax", "F", softF),
                    ("softmax", "C", softC),
                ):
                    report.add(
                        f"{name} {kind}_loss_grad",
                        f"{v}, {order}-order",
                        tk,
                        "cpp",
                        t[f"cpp {kind} {order}"] / tk,
                        "<= 2x",
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
    """The exact numerical gradient (all C*D weights) and the 51 x 51 loss plane against one cpp pass,
    the NumPy loss and the notes' loop (extrapolated).

    X is (D, N) F-ordered (the layout of R in the losses section). cpp and numba run in interleaved
    rounds together with one cpp loss+grad and one cpp loss, the passes the targets are stated
    against; the NumPy backend's differences (minutes at full N) are timed on their own.
    """
    from ..gradients import numerical_gradient
    from ..landscape import loss_on_plane, random_direction
    from ..losses import SoftmaxLoss, SVMLoss

    rows, y, W = cifar_shaped(n)
    X = rows.T
    rng = np.random.default_rng(1)
    picks = [(int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1]))) for _ in range(loop_sample)]
    d1, d2 = random_direction(W, seed=2, normalize="row"), random_direction(W, seed=3, normalize="row")
    fast = [name for name in ("cpp", "numba") if name in backends]
    rounds = min(repeat, 3)  # a numba softmax plane takes seconds at full N
    for kind, cls, ref, fd_target in (
        ("SVM", SVMLoss, reference.svm_loss_vectorized, "<= 1.2x"),
        ("softmax", SoftmaxLoss, reference.softmax_loss_vectorized, "<= 2x"),
    ):
        one = median_time(lambda: ref(W, X, y), repeat)
        report.add(f"NumPy vectorized {kind} loss+grad", "float64, (D, N) F-order", one)
        loop, how = loop_estimate(lambda V: ref(V, X, y)[0], W, picks)
        report.add(f"notes' loop, centered {kind}", f"estimate from {len(picks)} weights, {_threads_said(how)}", loop)
        fns = {}
        if "cpp" in fast:
            cpp = cls(X, y, backend="cpp")
            fns["loss+grad"], fns["loss"] = (lambda: cpp.loss_grad(W)), (lambda: cpp.loss(W))
        for name in fast:
            loss = cls(X, y, backend=name)
            fns[f"{name} fd"] = lambda loss=loss: numerical_gradient(loss, W)
            fns[f"{name} plane"] = lambda loss=loss: loss_on_plane(loss, W, d1, d2)
        t = interleaved(fns, rounds) if fns else {}
        for name in backends:
            if name not in fast:
                loss = cls(X, y, backend=name)
                t[f"{name} fd"] = median_time(lambda loss=loss: numerical_gradient(loss, W), max(1, repeat // 2))
        if "cpp" in fast:
            report.add(f"cpp {kind} loss+grad", "float64, F-order", t["loss+grad"])
            report.add(f"cpp {kind} loss", "float64, F-order", t["loss"])
        for name in backends:
            fd, what = t[f"{name} fd"], f"{name} numerical gradient, centered {kind}"
            report.add(what, "all weights, exact", fd, "one NumPy loss+grad", one / fd)
            report.add(what, "all weights, exact", fd, "the loop", loop / fd)
            if name == "cpp":
                report.add(what, "all weights, exact", fd, "one cpp loss+grad", t["loss+grad"] / fd, fd_target)
            elif name in fast and "cpp" in fast:
                report.add(what, "all weights, exact", fd, "cpp", t["cpp fd"] / fd, "<= 2x")
        for name in fast:
            plane = t[f"{name} plane"]
            what = f"{name} loss_on_plane, {kind}"
            if name == "cpp":
                report.add(what, "51 x 51 grid", plane, "one cpp loss", t["loss"] / plane, "<= 1.5x")
            elif "cpp" in fast:
                report.add(what, "51 x 51 grid", plane, "cpp", t["cpp plane"] / plane, "<= 2x")
        fns = t = None
        gc.collect()


def _threads_said(how: str) -> str:
    """How NumPy ran, from :func:`blas_threads`' words: one BLAS thread only where threadpoolctl limited it."""
    return "1 BLAS thread" if "1 BLAS thread" in how else "default BLAS threads"


@contextlib.contextmanager
def _kernel_stubbed(loss, W, idx):
    """Within the block, every ``SVMLoss`` kernel call returns a fresh copy of one result computed
    beforehand (``loss`` at ``W`` on the batch ``idx``), and steps in the call (``step_at``, ``train_at``)
    write ``W`` into their ``out``: a training loop then costs its Python layer alone (index drawing, argument
    checks, the update, histories), and the fresh gradient array the kernel would allocate or the
    copy it would write."""
    from ..losses import SVMLoss

    value, grad = loss.loss_grad_at(W, idx)

    def stepped(self, kernels, Wst, regs, cols, threads, step_sizes=None, out=None):
        np.copyto(out, W[None])
        return np.array([value]), None

    def trained(self, kernels, Wst, regs, batches, step_sizes, out, threads):
        np.copyto(out, W[None])
        return np.full((len(batches), 1), value)

    kept = SVMLoss._kernel_loss_grad, SVMLoss._kernel_stacked, SVMLoss._kernel_stacked_train
    SVMLoss._kernel_loss_grad = lambda self, W, idx, want_grad: (value, grad.copy())
    SVMLoss._kernel_stacked = stepped
    SVMLoss._kernel_stacked_train = trained
    try:
        yield
    finally:
        SVMLoss._kernel_loss_grad, SVMLoss._kernel_stacked, SVMLoss._kernel_stacked_train = kept


def _each_batch(fn, W, batches):
    """A timed candidate: ``fn(W, idx)`` for every mini-batch of one block of ``batches`` (calls, steps,
    B) in turn, the next block at every call: every step reads columns that no earlier call has left in
    the cache, like a training loop's fresh draw (re-reading one block, 150 MB at CIFAR-10's size,
    would time a step from a large L3 cache instead of memory)."""
    blocks = itertools.cycle(batches)

    def run() -> None:
        for idx in next(blocks):
            fn(W, idx)

    return run


def bench_training(report: Report, n: int, repeat: int, backends: list[str], quick: bool = False) -> None:
    """The work a student waits for (issue 11): the mini-batch step and the CS231n loop, the 5 x 5
    grid of ``tune``, random search's stacked product and random local search.

    Mini-batches hold B = 200 columns of X (D, N) F-ordered float64, drawn with replacement before the
    timing (a fresh batch per call). The step's roofline R_step = max(reading its B D values at the
    all-thread bandwidth measured on the whole X, its 2 B D C multiply-adds at the measured peak). The
    loops run the assignment's settings (lr 1e-7, reg 2.5e4) against the assignment's NumPy loop with
    one BLAS thread; the Python layer of a loop is its step time with the kernel stubbed (it returns a
    copy of a result computed beforehand), and the step's time outside the kernel is its step time less
    the kernel's timed alone, both medians of the same interleaved rounds. Needs the C++ core (every
    floor is its measured peak rate); numba is compared with cpp. ``quick``: cpp only, float64, fewer
    steps.
    """
    from .. import cs231n
    from ..losses import SVMLoss
    from ..optimize import minibatch_gd, random_local_search, random_search, tune
    from ..optimize.strategies import default_block

    rate = multiply_add_rate(repeat)
    if rate is None or "cpp" not in backends:
        return
    numba = "numba" in backends and not quick
    steps, grid_steps = (30, 4) if quick else (100, 10)
    rows, y, W = cifar_shaped(n)
    X = rows.T
    C, D = W.shape
    B = min(BATCH, n)
    bandwidth = X.nbytes / read_floor(X, rounds=repeat)
    report.add("memory bandwidth: read X once, all threads", f"{bandwidth / 1e9:.3g} GB/s", X.nbytes / bandwidth)

    svm = SVMLoss(X, y, REG, backend="cpp")  # the loops' reg: the kernel rows time the step they take
    Wc = svm.check_weights(W)
    batches = np.random.default_rng(2).integers(0, n, (repeat + 1, steps, B))  # a block per call (warm-up: 1)
    K = len(GRID_LRS) * len(GRID_REGS)
    Wst = np.random.default_rng(3).standard_normal((K, C, D)) * 1e-3
    regs = np.repeat(np.asarray(GRID_REGS), len(GRID_LRS))
    clf = cs231n.LinearSVM()
    W_numpy = W.copy()
    np.random.seed(0)

    with blas_threads(1) as how:
        numpy_threads = _threads_said(how)

    def numpy_loop() -> None:
        with blas_threads(1):
            assignment_svm_train(W_numpy, rows, y, steps, LR, REG, B)

    def cs231n_loop() -> None:
        with _backends.use_backend("cpp"):
            clf.train(rows, y, learning_rate=LR, reg=REG, num_iters=steps, batch_size=B)

    tune_seconds: list[float] = []  # tune's own clock around its loop: not its start or its accuracies

    def keep_tune_time(name: str, result) -> None:
        if name == "tune":
            tune_seconds.append(result.elapsed / steps)

    fns = {
        "numpy loop": numpy_loop,
        "cs231n loop": cs231n_loop,
        "minibatch_gd": lambda: minibatch_gd(svm, Wc, batch_size=B, step_size=LR, num_iters=steps, seed=4),
        "cpp step": _each_batch(svm.loss_grad_at, Wc, batches),
        "cpp stacked": _each_batch(lambda V, idx: svm.stacked_loss_grad(V, regs, idx), Wst, batches[:, :grid_steps]),
        # as many steps a run as the loops: a run's set-up (its buffers' first touch) is shared out as in
        # theirs (with 10 steps it added 4-7 % to a step; a real grid trains 1500)
        "tune": lambda: tune(svm, GRID_LRS, GRID_REGS, num_iters=steps, batch_size=B, seed=5),
    }
    per_call = {name: steps for name in ("numpy loop", "cs231n loop", "minibatch_gd", "cpp step")}
    per_call.update({"cpp stacked": grid_steps, "tune": 1})
    if not quick:  # float32 reads half the bytes: its own, lower R_step
        svm32 = SVMLoss(rows.astype(np.float32).T, y, REG, backend="cpp")
        fns["cpp step float32"] = _each_batch(svm32.loss_grad_at, svm32.check_weights(W.astype(np.float32)), batches)
        per_call["cpp step float32"] = steps
    if numba:  # numba's calls take many times cpp's on a busy machine: fewer of them a round
        numba_svm = svm.with_backend("numba")
        fns["numba step"] = _each_batch(numba_svm.loss_grad_at, Wc, batches[:, : steps // 5])
        fns["numba stacked"] = _each_batch(
            lambda V, idx: numba_svm.stacked_loss_grad(V, regs, idx), Wst, batches[:, : max(1, grid_steps // 3)]
        )
        per_call.update({"numba step": steps // 5, "numba stacked": max(1, grid_steps // 3)})
    t = interleaved(fns, repeat, check=keep_tune_time, settle={"numba stacked"})  # many models: BLAS
    t = {name: seconds / per_call[name] for name, seconds in t.items()}
    t["tune"] = float(np.median(tune_seconds))  # check sees the timed rounds only
    # the same two loops with no kernel: their Python layer, per step (the slope between a run of `steps`
    # steps and one of 10 x `steps`) and per call (the set-up: argument checks, the result)
    loops = {
        "cs231n loop": lambda k: clf.train(rows, y, learning_rate=LR, reg=REG, num_iters=k, batch_size=B),
        "minibatch_gd": lambda k: minibatch_gd(svm, Wc, batch_size=B, step_size=LR, num_iters=k, seed=4),
    }
    with _kernel_stubbed(svm, Wc, batches[0, 0]):
        stubbed = interleaved(
            {f"{name} {k}": (lambda run=run, k=k: run(k)) for name, run in loops.items() for k in (steps, 10 * steps)},
            repeat,
        )
    layer = {name: (stubbed[f"{name} {10 * steps}"] - stubbed[f"{name} {steps}"]) / (9 * steps) for name in loops}
    setup = {name: stubbed[f"{name} {steps}"] - steps * layer[name] for name in loops}

    # the mini-batch step against its roofline (float32: its own R_step, half the bytes to read)
    step_of = f"{steps} steps a call, B = {B}, lr {LR:g}, reg {REG:g}"  # a call's own set-up is in its steps
    compute = step_roofline(B, D, C, 8, bandwidth, rate)[1]
    report.add("step compute floor: 2 B D C multiply-adds at peak", f"{rate / 1e9:.3g} G/s, B = {B}", compute)
    for dtype_name, itemsize, name in (("float64", 8, "cpp step"), ("float32", 4, "cpp step float32")):
        if name not in t:
            continue
        memory = step_roofline(B, D, C, itemsize, bandwidth, rate)[0]
        R_step = max(memory, compute)
        report.add("step memory floor: read B columns at that bandwidth", f"{dtype_name}, B = {B}", memory)
        report.add("R_step = max(step memory floor, step compute floor)", dtype_name, R_step)
        report.add(
            "cpp loss_grad_at: one mini-batch step",
            f"{dtype_name}, F-order, B = {B}",
            t[name],
            "R_step",
            R_step / t[name],
            "<= 1.5x R_step",
        )
    if numba:
        tk = t["numba step"]
        report.add(
            "numba loss_grad_at: one mini-batch step",
            f"float64, F-order, B = {B}",
            tk,
            "cpp",
            t["cpp step"] / tk,
            "<= 2x",
        )

    # the CS231n loop against the assignment's, and the Python layer around the kernel
    numpy_step = t["numpy loop"]
    report.add(
        "assignment's NumPy loop: choice, X[idx], loss+grad, W -= lr*grad",
        f"per step, {step_of}, {numpy_threads}",
        numpy_step,
    )
    for what, name in (
        ("cs231n.LinearSVM().train", "cs231n loop"),
        ("minibatch_gd (plain SGD) on X_rows.T", "minibatch_gd"),
    ):
        ts = t[name]
        report.add(what, f"per step, {step_of}", ts, f"NumPy loop, {numpy_threads}", numpy_step / ts, ">= 5x")
        report.add(
            f"{what}: Python layer",
            "per step, the kernel stubbed (index draw, update, finite check, history)",
            layer[name],
            target="<= 30 µs",
        )
        report.add(f"{what}: Python layer", "per call, the kernel stubbed (checks, set-up, result)", setup[name])
        report.add(
            f"{what}: the step outside the kernel",
            "per step: loop step - cpp step (timed alone, not in the loop)",
            max(0.0, ts - t["cpp step"]),
        )

    # the 5 x 5 grid: K models stacked through one kernel pass a step
    grid_floor = K * compute_floor(B, D, C, rate)
    report.add("grid compute floor: K 2 B D C multiply-adds at peak", f"K = {K}, B = {B}", grid_floor)
    ts = t["cpp stacked"]
    report.add(
        "cpp stacked_loss_grad: one step of the grid",
        f"float64, {K} models, B = {B}",
        ts,
        "compute floor",
        grid_floor / ts,
        "<= 1.3x compute floor",
    )
    if numba:
        tk = t["numba stacked"]
        report.add(
            "numba stacked_loss_grad: one step of the grid",
            f"float64, {K} models, B = {B}",
            tk,
            "cpp",
            ts / tk,
            "<= 2x",
        )
    tt = t["tune"]
    what = f"tune: one step of the {len(GRID_LRS)} x {len(GRID_REGS)} grid"
    how = "stacked_train: runs of steps in one call, W kept packed"
    report.add(what, how, tt, "compute floor", grid_floor / tt, "<= 1.3x compute floor")
    report.add(what, how, tt, f"{K} NumPy steps, {numpy_threads}", K * numpy_step / tt, ">= 10x")
    fns = clf = svm32 = numba_svm = None
    gc.collect()

    # random search's stacked product over the full N, against its compute floor
    Kc = default_block(C, D)
    Wblk = np.random.default_rng(6).standard_normal((Kc, C, D)) * 1e-4
    losses = {name: svm.with_backend(name) for name in ("cpp", "numba") if name == "cpp" or numba}
    for loss in losses.values():  # compiled and warm on a few columns: a full-N call takes seconds
        loss.subset(np.arange(min(n, 500))).candidate_losses(Wblk)
    t = interleaved(
        {name: (lambda loss=loss: loss.candidate_losses(Wblk)) for name, loss in losses.items()},
        min(repeat, 3),
        warmup=0,
        settle={"numba"},  # NumPy's BLAS product
    )
    floor = Kc * C * D * n / rate
    report.add("random search compute floor: K C D N multiply-adds at peak", f"K = {Kc}, N = {n}", floor)
    report.add(
        "cpp candidate_losses: random search's stacked product",
        f"float64, K = {Kc}, N = {n}",
        t["cpp"],
        "compute floor",
        floor / t["cpp"],
        "<= 1.5x compute floor",
    )
    if numba:
        report.add(
            "numba candidate_losses: random search's stacked product",
            f"float64, K = {Kc}, N = {n}",
            t["numba"],
            "cpp",
            t["cpp"] / t["numba"],
            "<= 2x",
        )

    # random local search against random search, the same number of tries (on fewer examples)
    tries, n_search = (64 if quick else 256), min(n, 5000)
    small = SVMLoss(X[:, :n_search], y[:n_search], backend="cpp")
    searches = {
        "random search": lambda k=tries: random_search(small, num_tries=k, seed=7),
        "local search": lambda k=tries: random_local_search(small, num_iters=k, seed=8),
    }
    for search in searches.values():
        search(Kc)  # warm: one block of tries
    t = interleaved(searches, min(repeat, 3), warmup=0, settle={"local search"})  # its score changes: BLAS
    on = f"{tries} tries, N = {n_search}"
    report.add("random_search (strategy 1)", on, t["random search"])
    report.add(
        "random_local_search (strategy 2)",
        on,
        t["local search"],
        "random search",
        t["random search"] / t["local search"],
        "<= 1.2x random search",
    )
    rows = X = svm = small = losses = None
    gc.collect()


def build_report(
    n: int = 50_000,
    repeat: int = 5,
    sections=SECTIONS,
    backends=None,
    dtypes=("float64", "float32"),
    quick: bool = False,
) -> Report:
    """Measure the chosen sections on ``backends`` (default: every available one); ``quick``: the
    training section's reduced form."""
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
    if "training" in sections:
        bench_training(report, n, repeat, backends, quick)
    return report
