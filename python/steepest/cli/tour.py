"""``steepest tour``: the story of the CS231n "Optimization" notes on real data, step by step.

1. the data; 2. random search; 3. random local search; 4. the numerical gradient (exact fast path)
checked against the analytic one; 5. the step-size sweep (and the exact line search it approximates);
6. mini-batch SGD for the SVM and the softmax; 7. the loss landscape along a line and on a plane;
8. a summary side by side with what the notes report on CIFAR-10. Every step prints a table with its
timing and backend. The command writes, into ``./steepest-tour`` (``--out``; nothing with
``--no-plots``), the figures (the notes' three-panel landscape, the loss curves, the step-size sweep,
the gradient check's error histogram; they need matplotlib, ``pip install steepest[plot]``), the
tables as JSON and CSV, and ``index.html``: one self-contained page with every table and figure.

The command is ``NAME``, ``HELP``, ``add_arguments`` and ``run``; the tour itself is :func:`run_tour`.
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _backends
from . import numba_compile_notice
from .report import Report, plot_error_histogram, plot_loss_curves, plot_step_sweep

NAME = "tour"
HELP = "walk the CS231n optimization story on real data: random search to mini-batch SGD"


DEFAULT_OUT = "steepest-tour"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--data",
        default="digits",
        help="data set: digits (default, built in, no download), cifar10:PATH, mnist:PATH, synthetic[:N]",
    )
    parser.add_argument("--backend", default=None, help="cpp, numba, numpy or auto (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"folder for index.html (every table and figure on one page), the PNG figures, tour.json and "
        f"the CSV tables (default ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--no-plots",
        action="store_true",
        help="print the tables only: draw no figures and write no folder (no matplotlib needed)",
    )
    parser.add_argument(
        "--tries", type=int, default=1000, help="random-search tries and local-search iterations (default 1000)"
    )
    parser.add_argument("--iters", type=int, default=None, help="mini-batch SGD iterations (default 1500)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 100 tries and 200 SGD iterations (unless --iters is given)"
    )


def run(args) -> int:
    for option, value in (("--tries", args.tries), ("--iters", args.iters)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1; got {value}")
    run_tour(
        args.data,
        backend=args.backend,
        seed=args.seed,
        out=None if args.no_plots else args.out,
        num_tries=args.tries,
        num_iters=args.iters,
        quick=args.quick,
    )
    return 0


# Learning rates and regularization that suit each data set's pixel scale (CIFAR-10: the assignment's).
SETTINGS = {
    "cifar10": {"svm": (1e-7, 2.5e4), "softmax": (1e-7, 2.5e4), "batch_size": 200, "num_iters": 1500},
    "mnist": {"svm": (1e-6, 1e3), "softmax": (1e-5, 1e2), "batch_size": 200, "num_iters": 1500},
    "digits": {"svm": (1e-3, 1e-1), "softmax": (2e-3, 1e-2), "batch_size": 200, "num_iters": 1500},
    "synthetic": {"svm": (1e-4, 1e-1), "softmax": (1e-3, 1e-1), "batch_size": 200, "num_iters": 1500},
}

# What the notes and the assignment report on CIFAR-10 (test accuracy).
NOTES_CIFAR10 = {
    "random search": "15.5%",
    "random local search": "21.4%",
    "SVM, mini-batch SGD": "about 39%",
    "softmax, mini-batch SGD": "about 35-38%",
}


@dataclass
class Tour:
    """Everything the tour measured: one entry per step, each JSON-friendly; ``report`` the printed
    tables (also rendered as ``index.html``), ``figures`` the PNG files written, ``page`` the page."""

    data: str
    backend: str
    steps: dict = field(default_factory=dict)
    summary: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    report: Report | None = None
    page: str | None = None

    def record(self, step: str, **values: Any) -> None:
        self.steps[step] = values


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


class _Figures:
    """Where figures go: ``out`` when it is set and matplotlib imports, else nowhere (said once)."""

    def __init__(self, out: str | None, report: Report) -> None:
        self.out, self.report, self.enabled, self.missing = out, report, out is not None, None
        if self.enabled:
            from ..landscape.plots import require_matplotlib

            try:
                require_matplotlib()
            except ImportError as exc:
                self.enabled, self.missing = False, str(exc)

    def draw(self, name: str, caption: str, draw) -> None:
        if not self.enabled:
            return
        path = os.path.join(self.out, name)
        draw(path)
        self.report.figure(path, caption)


def run_tour(
    data_spec: str = "digits",
    *,
    backend: str | None = None,
    seed: int = 0,
    out: str | None = None,
    num_tries: int = 1000,
    num_iters: int | None = None,
    quick: bool = False,
) -> Tour:
    """Walk the notes' story on ``data_spec`` and print it; return what was measured.

    With ``out`` (a folder, created when needed) the figures (with matplotlib), ``tour.json``, the
    CSV tables and ``index.html`` (every table and figure on one self-contained page) are written there.
    """
    from .._validate import integer, writable_dir
    from ..datasets import load_dataset
    from ..gradients import GRADES, grad_check
    from ..losses import SVMLoss
    from ..optimize import random_local_search, random_search, step_size_sweep, train_linear_classifier

    name = _backends.resolve(backend)
    num_tries = integer(num_tries, "num_tries", low=1)
    if num_iters is not None:
        num_iters = integer(num_iters, "num_iters", low=1)
    numba_compile_notice([name])
    started = time.perf_counter()

    data = load_dataset(data_spec, seed=seed)  # a bad spec is refused before the folder is made
    if out is not None:
        out = os.path.abspath(writable_dir(out, "out"))
    report = Report(f"steepest tour: the CS231n optimization notes on {data.name}")
    figures = _Figures(out, report)
    if figures.missing:
        report.note(f"no figures: {figures.missing}")

    report.section("The data")
    report.pre(str(data))
    kind = data.name if data.name in SETTINGS else "synthetic"
    settings = SETTINGS[kind]
    iters = num_iters or (200 if quick else settings["num_iters"])
    tries = 100 if quick else num_tries
    C, D = data.classes, data.n_features
    report.table(
        ["setting", "value"],
        [
            ("backend", name),
            ("threads", _backends.get_num_threads()),
            ("weights W", f"({C}, {D}) = {C * D:,} numbers"),
            ("seed", seed),
        ],
    )
    tour = Tour(data.name, name, report=report)
    tour.record(
        "data",
        name=data.name,
        classes=C,
        features=D,
        train=int(data.X_train.shape[1]),
        val=int(data.X_val.shape[1]),
        test=int(data.X_test.shape[1]),
        description=data.description,
    )

    svm = SVMLoss(data.X_train, data.y_train, backend=name)  # the notes' loss_fun: no regularization

    report.section("Strategy 1, a first very bad idea: random search")
    rs = random_search(svm, (C, D), num_tries=tries, scale=1e-4, seed=seed)
    rs_acc = rs.accuracy(data.X_test, data.y_test)
    report.table(
        ["tries", "best loss", "test accuracy", "loss evaluations", "seconds", "backend"],
        [(tries, rs.loss, _percent(rs_acc), rs.nfev, rs.elapsed, rs.backend)],
    )
    tour.record("random search", tries=tries, loss=rs.loss, test_accuracy=rs_acc, nfev=rs.nfev, seconds=rs.elapsed)
    tour.summary.append(("random search", rs.loss, rs_acc, rs.nfev, rs.elapsed))

    report.section("Strategy 2: random local search")
    rls = random_local_search(svm, None, step_size=1e-4, num_iters=tries, init_scale=1e-3, seed=seed)
    rls_acc = rls.accuracy(data.X_test, data.y_test)
    report.table(
        ["iterations", "steps accepted", "final loss", "test accuracy", "loss evaluations", "seconds"],
        [(tries, rls.accepted, rls.loss, _percent(rls_acc), rls.nfev, rls.elapsed)],
    )
    tour.record(
        "random local search",
        iterations=tries,
        accepted=rls.accepted,
        loss=rls.loss,
        test_accuracy=rls_acc,
        nfev=rls.nfev,
        seconds=rls.elapsed,
    )
    tour.summary.append(("random local search", rls.loss, rls_acc, rls.nfev, rls.elapsed))

    report.section("Strategy 3, following the gradient: the numerical gradient, exact and fast")
    W = np.random.default_rng(seed).standard_normal((C, D)) * 1e-4
    check = grad_check(svm, W, method="centered")
    loop_estimate, how = _loop_estimate(svm, W, seed)
    report.pre(str(check))
    report.table(
        ["gradient of all weights", "seconds", "loss evaluations", "how the time was obtained"],
        [
            ("the notes' loop, centered, vectorized NumPy loss (estimate)", loop_estimate, check.loop_evaluations, how),
            (
                f"exact fast path ({check.backend})",
                check.elapsed,
                round(check.loss_evaluations, 1),
                "measured: the whole call, once",
            ),
        ],
    )
    report.text(
        f"estimated speed-up: {loop_estimate / check.elapsed:,.0f}x, and no cancellation error "
        "(the fast path's differences are exact, not the subtraction of two nearly equal losses)"
    )
    figures.draw(
        "grad_check_errors.png",
        "relative error of every weight's analytic gradient against the exact centered difference; "
        "dashed lines: the notes' grades",
        lambda path: plot_error_histogram(check.errors, GRADES, path),
    )
    tour.record(
        "numerical gradient",
        max_relative_error=check.max_error,
        grade=check.grade,
        counts=check.counts(),
        seconds=check.elapsed,
        loop_seconds_estimate=loop_estimate,
        loop_estimate_method=how,
        loss_evaluations=check.loss_evaluations,
    )

    report.section("The step-size sweep: loss(W - step * dW)")
    dW = svm.grad(W)
    sweep = step_size_sweep(svm, W, dW, exponents=range(-10, 0))
    exact = _exact_line_search(svm, W, dW)
    rows = [
        (f"{step:.0e}", new, change, "best of the sweep" if best else "") for step, new, change, best in sweep.rows()
    ]
    rows.append((f"{exact[0]:.4g}", exact[1], exact[1] - sweep.loss0, "exact line search (the true best step)"))
    report.table(
        ["step size", "new loss", "change from the loss at W", "which"],
        rows,
        title=f"from loss {sweep.loss0:.6g} at W = 1e-4 * randn (seed {seed}); "
        f"{sweep.method}, backend {sweep.backend}, {sweep.elapsed:.3g} s",
    )
    report.note("the SVM is piecewise linear along a line, so the exact line search finds the best step exactly")
    figures.draw(
        "step_size_sweep.png",
        "the notes' sweep of step sizes along the negative gradient, and the exact line search",
        lambda path: plot_step_sweep(sweep.steps, sweep.losses, sweep.loss0, exact, path),
    )
    tour.record("step-size sweep", **sweep.as_dict())
    tour.steps["step-size sweep"]["exact_line_search"] = {"step": exact[0], "loss": exact[1]}

    report.section("Mini-batch gradient descent (the assignment's loop)")
    rows, curves = [], {}
    for loss_name in ("svm", "softmax"):
        lr, reg = settings[loss_name]
        clf = train_linear_classifier(
            data.X_train,
            data.y_train,
            loss=loss_name,
            reg=reg,
            learning_rate=lr,
            batch_size=settings["batch_size"],
            num_iters=iters,
            seed=seed,
            backend=name,
        )
        val_acc = clf.accuracy(data.X_val, data.y_val)
        test_acc = clf.accuracy(data.X_test, data.y_test)
        label = f"{'SVM' if loss_name == 'svm' else 'softmax'}, mini-batch SGD"
        rows.append((label, lr, reg, iters, clf.loss, _percent(val_acc), _percent(test_acc), clf.elapsed))
        curves[loss_name] = clf.loss_history
        tour.record(
            label,
            learning_rate=lr,
            reg=reg,
            iterations=iters,
            batch_size=settings["batch_size"],
            loss=clf.loss,
            val_accuracy=val_acc,
            test_accuracy=test_acc,
            seconds=clf.elapsed,
            loss_history=clf.loss_history.tolist(),
        )
        tour.summary.append((label, clf.loss, test_acc, clf.nfev, clf.elapsed))
    report.table(
        [
            "classifier",
            "learning rate",
            "reg",
            "iterations",
            "final batch loss",
            "val accuracy",
            "test accuracy",
            "seconds",
        ],
        rows,
        title=f"batch size {settings['batch_size']}; learning rate and reg chosen for {kind}'s pixel scale",
    )
    figures.draw(
        "loss_curves.png",
        "the mini-batch loss at every iteration (log scale)",
        lambda path: plot_loss_curves(curves, data.name, path),
    )

    report.section("The loss landscape along a random line and on a random plane")
    _landscape_step(svm, rls.W if rls.W is not None else W, seed, figures, tour)

    report.section("Summary")
    notes = NOTES_CIFAR10
    report.table(
        ["strategy", "loss", "test accuracy", "loss evaluations", "seconds", "the notes on CIFAR-10"],
        [(s, l, _percent(a), n, t, notes.get(s, "")) for s, l, a, n, t in tour.summary],
        title=f"{data.name}, backend {name}, whole tour {time.perf_counter() - started:.1f} s",
    )
    if data.name != "cifar10":
        report.note("the notes' figures are for CIFAR-10; run `steepest tour --data cifar10:PATH` to compare")
    tour.figures = report.figures
    if out is not None:
        _write(out, tour, curves)
        written = sorted(os.listdir(out))
        print(f"\nwrote {len(written)} files to {out}: {', '.join(written)}")
        print(f"open {tour.page} in a browser to see every table and figure")
        if figures.missing:
            print("(figures need matplotlib: pip install steepest[plot])")
    return tour


def _loop_estimate(loss, W, seed, sample: int = 10) -> tuple[float, str]:
    """An estimate of the notes' centered loop over all weights, each step a vectorized NumPy loss
    (the NumPy backend) at one BLAS thread: the median time of one weight's two evaluations over
    ``sample`` weights, times the number of weights. Returns (seconds, how it was measured)."""
    from .measure import loop_estimate

    rng = np.random.default_rng(seed)
    picks = [(int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1]))) for _ in range(sample)]
    return loop_estimate(loss.with_backend("numpy"), W, picks)


def _exact_line_search(loss, W, dW):
    from ..landscape import exact_line_search

    result = exact_line_search(loss, W, dW)
    return result.step, result.loss


def _landscape_step(loss, W, seed, figures: _Figures, tour: Tour) -> None:
    """The notes' line and plane: Gaussian directions d1, d2 through W, grids over [-span, span]."""
    from .. import landscape
    from ..landscape.checks import LINE_POINTS, PLANE_POINTS
    from ..landscape.plots import plot_notes

    report = tour.report
    rng = np.random.default_rng(seed)
    d1 = landscape.random_direction(W, rng)
    d2 = landscape.random_direction(W, rng)
    few = min(100, loss.n)
    one, many = loss.subset(np.array([0])), loss.subset(np.arange(few))
    span = landscape.auto_span(many, W, d1)
    line_grid = landscape.centered_grid(LINE_POINTS, span)
    plane_grid = landscape.centered_grid(PLANE_POINTS, span)
    everyone = f"{loss.n:,} (all)"
    lines = [
        (label, part, landscape.loss_along_line(part, W, d1, line_grid))
        for label, part in (("1", one), (everyone, loss))
    ]
    planes = [
        (label, landscape.loss_on_plane(part, W, d1, d2, plane_grid, plane_grid))
        for label, part in (("1", one), (f"{few} (the first)", many), (everyone, loss))
    ]
    rows, record = [], {"span": span, "line_points": LINE_POINTS, "plane_points": PLANE_POINTS}
    for label, part, sl in lines:
        a, v = sl.grid_minimum
        exact = landscape.exact_line_minimum(part, W, d1) if loss.has_exact_line else None
        rows.append(
            (
                "line W + a d1",
                label,
                f"{len(sl.alphas)} points, a in [-{span:g}, {span:g}]",
                v,
                f"a = {a:.3g}",
                None if exact is None else float(exact.loss),
                None if exact is None else f"a = {exact.alpha:.4g}",
                float(sl.losses[len(sl.alphas) // 2]),
            )
        )
        record[f"line, {label} examples"] = {"grid_minimum": v, "at_alpha": a} | (
            {} if exact is None else {"exact_minimum": float(exact.loss), "exact_alpha": float(exact.alpha)}
        )
    for label, pl in planes:
        a, b, v = pl.grid_minimum
        centre = pl.losses[len(pl.alphas) // 2, len(pl.betas) // 2]
        rows.append(
            (
                "plane W + a d1 + b d2",
                label,
                f"{len(pl.alphas)} x {len(pl.betas)}, a and b in [-{span:g}, {span:g}]",
                v,
                f"a = {a:.3g}, b = {b:.3g}",
                None,
                None,
                float(centre),
            )
        )
        record[f"plane, {label} examples"] = {"grid_minimum": v, "at_alpha": a, "at_beta": b}
    report.table(
        [
            "slice",
            "examples",
            "grid and its span",
            "lowest on the grid",
            "at",
            "exact line minimum",
            "at (exact)",
            "loss at W",
        ],
        rows,
        title=f"SVM loss (no regularization) around W = the random-local-search weights; d1, d2 Gaussian (seed {seed})",
    )
    report.note(
        f"span {span:g}: twice the median distance from W to the hinge kinks of the first {few} examples "
        "along d1, so most kinks show; the exact minimum is over the whole line, not only the grid "
        "('-': not computed for planes)"
    )
    figures.draw(
        "landscape.png",
        "the notes' figure: the loss along a line for one example, on a plane for one example, "
        f"and on the same plane averaged over {few} examples",
        lambda path: plot_notes(lines[0][2], planes[0][1], planes[1][1], path=path),
    )
    tour.record("landscape", **record)


def _write(out: str, tour: Tour, curves: dict) -> None:
    """tour.json of every step, CSV of the summary and the loss curves, and index.html."""
    from .._atomic import write_text

    write_text(
        os.path.join(out, "tour.json"),
        json.dumps({"data": tour.data, "backend": tour.backend, "steps": tour.steps}, indent=2, default=float),
    )
    lines = [["strategy", "loss", "test_accuracy", "nfev", "seconds"]] + [list(r) for r in tour.summary]
    write_text(os.path.join(out, "summary.csv"), _csv(lines))
    longest = max(len(c) for c in curves.values())
    rows = [["iteration"] + list(curves)] + [
        [i] + [float(c[i]) if i < len(c) else "" for c in curves.values()] for i in range(longest)
    ]
    write_text(os.path.join(out, "loss_curves.csv"), _csv(rows))
    tour.page = tour.report.write_html(os.path.join(out, "index.html"))


def _csv(rows) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
