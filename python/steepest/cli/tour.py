"""``steepest tour``: the story of the CS231n "Optimization" notes on real data, step by step.

1. the data; 2. random search; 3. random local search; 4. the numerical gradient (exact fast path)
checked against the analytic one; 5. the step-size sweep (and the exact line search it approximates);
6. mini-batch SGD for the SVM and the softmax; 7. the loss landscape; 8. a summary side by side with
what the notes report on CIFAR-10. Every step prints a table with its timing and backend; ``out=``
writes the tables as JSON and CSV and, with matplotlib, PNG figures.

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
from .._table import key_values, table

NAME = "tour"
HELP = "walk the CS231n optimization story on real data: random search to mini-batch SGD"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--data", default="digits", help="digits (default, built in), cifar10:PATH, mnist:PATH, synthetic[:N]"
    )
    parser.add_argument("--backend", default=None, help="cpp, numba, numpy or auto (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--out", default=None, help="folder for tour.json, CSV tables and PNG figures")
    parser.add_argument(
        "--tries", type=int, default=1000, help="random-search tries and local-search iterations (default 1000)"
    )
    parser.add_argument("--iters", type=int, default=None, help="mini-batch SGD iterations (default 1500)")
    parser.add_argument("--quick", action="store_true", help="fewer tries and iterations (a smoke run)")


def run(args) -> int:
    for option, value in (("--tries", args.tries), ("--iters", args.iters)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1; got {value}")
    run_tour(
        args.data,
        backend=args.backend,
        seed=args.seed,
        out=args.out,
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
    """Everything the tour measured: one entry per step, each JSON-friendly."""

    data: str
    backend: str
    steps: dict = field(default_factory=dict)
    summary: list = field(default_factory=list)
    figures: list = field(default_factory=list)

    def record(self, step: str, **values: Any) -> None:
        self.steps[step] = values


def _section(number: int, title: str) -> None:
    print()
    print(f"{number}. {title}")
    print("=" * (len(title) + 3))


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


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
    """Walk the notes' story on ``data_spec`` and print it; return what was measured."""
    from ..datasets import load_dataset
    from ..gradients import grad_check
    from ..losses import SVMLoss
    from ..optimize import random_local_search, random_search, step_size_sweep, train_linear_classifier

    name = _backends.resolve(backend)
    if out is not None:
        from .._validate import writable_dir

        out = writable_dir(out, "out")
    started = time.perf_counter()

    _section(1, "The data")
    data = load_dataset(data_spec, seed=seed)
    print(data)
    kind = data.name if data.name in SETTINGS else "synthetic"
    settings = SETTINGS[kind]
    iters = num_iters or (200 if quick else settings["num_iters"])
    tries = 100 if quick else num_tries
    C, D = data.classes, data.n_features
    print(
        key_values(
            [
                ("backend", name),
                ("threads", _backends.get_num_threads()),
                ("weights W", f"({C}, {D}) = {C * D:,} numbers"),
            ]
        )
    )
    tour = Tour(data.name, name)
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

    _section(2, "Strategy 1, a first very bad idea: random search")
    rs = random_search(svm, (C, D), num_tries=tries, scale=1e-4, seed=seed)
    rs_acc = rs.accuracy(data.X_test, data.y_test)
    print(
        table(
            ["tries", "best loss", "test accuracy", "nfev", "seconds", "backend"],
            [(tries, rs.loss, _percent(rs_acc), rs.nfev, rs.elapsed, rs.backend)],
        )
    )
    tour.record("random search", tries=tries, loss=rs.loss, test_accuracy=rs_acc, nfev=rs.nfev, seconds=rs.elapsed)
    tour.summary.append(("random search", rs.loss, rs_acc, rs.nfev, rs.elapsed))

    _section(3, "Strategy 2: random local search")
    rls = random_local_search(svm, None, step_size=1e-4, num_iters=tries, init_scale=1e-3, seed=seed)
    rls_acc = rls.accuracy(data.X_test, data.y_test)
    print(
        table(
            ["iterations", "accepted", "final loss", "test accuracy", "nfev", "seconds"],
            [(tries, rls.accepted, rls.loss, _percent(rls_acc), rls.nfev, rls.elapsed)],
        )
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

    _section(4, "Strategy 3, following the gradient: the numerical gradient, exact and fast")
    W = np.random.default_rng(seed).standard_normal((C, D)) * 1e-4
    check = grad_check(svm, W, method="centered")
    loop_estimate = _loop_estimate(svm, W, seed)
    print(check)
    print()
    print(
        table(
            ["gradient of all weights", "seconds", "loss evaluations"],
            [
                (
                    "notes' loop, centered, vectorized NumPy loss (timed on 10 weights)",
                    loop_estimate,
                    check.loop_evaluations,
                ),
                (f"exact fast path ({check.backend})", check.elapsed, round(check.loss_evaluations, 1)),
            ],
        )
    )
    print(f"speed-up: {loop_estimate / check.elapsed:,.0f}x, with no cancellation error")
    tour.record(
        "numerical gradient",
        max_relative_error=check.max_error,
        grade=check.grade,
        counts=check.counts(),
        seconds=check.elapsed,
        loop_seconds_estimate=loop_estimate,
        loss_evaluations=check.loss_evaluations,
    )

    _section(5, "The step-size sweep: loss(W - step * dW)")
    dW = svm.grad(W)
    sweep = step_size_sweep(svm, W, dW, exponents=range(-10, 0))
    print(sweep)
    tour.record("step-size sweep", **sweep.as_dict())
    exact = _exact_line_search(svm, W, dW)
    print(
        f"the exact line search along -dW (the SVM is piecewise linear on a line): "
        f"step {exact[0]:.4g}, loss {exact[1]:.6g}"
    )
    tour.steps["step-size sweep"]["exact_line_search"] = {"step": exact[0], "loss": exact[1]}

    _section(6, "Mini-batch gradient descent (the assignment's loop)")
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
    print(
        table(
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
        )
    )
    print(_sparkline_rows(curves))

    _section(7, "The loss landscape along a random line and a random plane")
    _landscape_step(svm, rls.W if rls.W is not None else W, seed, out, tour)

    _section(8, "Summary")
    notes = NOTES_CIFAR10
    print(
        table(
            ["strategy", "loss", "test accuracy", "nfev", "seconds", "the notes on CIFAR-10"],
            [(s, l, _percent(a), n, t, notes.get(s, "")) for s, l, a, n, t in tour.summary],
            title=f"{data.name}, backend {name}, whole tour {time.perf_counter() - started:.1f} s",
        )
    )
    if data.name != "cifar10":
        print("(the notes' figures are for CIFAR-10; run `steepest tour --data cifar10:PATH` to compare)")
    if out is not None:
        _write(out, tour, curves)
        print(f"\nwrote {', '.join(sorted(os.listdir(out)))} to {out}")
    return tour


def _loop_estimate(loss, W, seed, sample: int = 10) -> float:
    """The notes' centered loop over all weights, each step a vectorized NumPy loss evaluation
    (the NumPy backend, which reads either memory order of X well), timed on ``sample`` weights."""
    from .measure import loop_seconds

    rng = np.random.default_rng(seed)
    picks = [(int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1]))) for _ in range(sample)]
    vectorized = loss.with_backend("numpy")
    return loop_seconds(vectorized, W, picks)


def _exact_line_search(loss, W, dW):
    from ..landscape import exact_line_search

    result = exact_line_search(loss, W, dW)
    return result.step, result.loss


def _landscape_step(loss, W, seed, out, tour) -> None:
    from .. import landscape

    d1 = landscape.random_direction(W, seed=seed, normalize="row")
    line = landscape.loss_along_line(loss, W, d1)
    low = int(np.argmin(line.losses))
    exact = landscape.exact_line_minimum(loss, W, d1)
    print(
        table(
            ["slice", "points", "min loss on the grid", "at alpha", "exact minimum", "at alpha"],
            [
                (
                    "line, all training examples",
                    len(line.alphas),
                    float(line.losses[low]),
                    float(line.alphas[low]),
                    float(exact.loss),
                    float(exact.alpha),
                )
            ],
        )
    )
    tour.record(
        "landscape",
        line_points=len(line.alphas),
        grid_minimum=float(line.losses[low]),
        exact_minimum=float(exact.loss),
        exact_alpha=float(exact.alpha),
    )
    if out is None:
        print("(pass --out DIR to draw the notes' figures)")
        return
    try:
        path = os.path.join(out, "landscape.png")
        landscape.plot_notes_figure(loss, W, seed=seed, path=path)
        tour.figures.append(path)
    except ImportError as exc:
        print(f"(no figures: {exc})")


def _sparkline_rows(curves: dict) -> str:
    bars = " .:-=+*#%@"
    lines = []
    for name, history in curves.items():
        h = np.asarray(history, dtype=np.float64)
        chunks = np.array_split(h, min(40, len(h)))
        means = np.array([c.mean() for c in chunks])
        lo, hi = means.min(), means.max()
        scaled = np.zeros_like(means) if hi == lo else (means - lo) / (hi - lo)
        lines.append(
            f"{name:>8} loss  {h[0]:.3g} {''.join(bars[int(round(v * (len(bars) - 1)))] for v in scaled)} {h[-1]:.3g}"
        )
    return "\n".join(lines)


def _write(out: str, tour: Tour, curves: dict) -> None:
    """JSON of every step, CSV of the summary and the loss curves, PNG curves with matplotlib."""
    from .._atomic import atomic_open, write_text

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
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, history in curves.items():
        ax.plot(history, label=name, linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mini-batch loss")
    ax.set_yscale("log")
    ax.set_title(f"mini-batch SGD on {tour.data}")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out, "loss_curves.png")
    with atomic_open(path, suffix=".png") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
    tour.figures.append(path)


def _csv(rows) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
