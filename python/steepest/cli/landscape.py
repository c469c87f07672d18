"""``steepest landscape``: the notes' loss-landscape figures, exact line minima and an exact line search.

Prints (1) the exact minimum of the SVM loss along a random line for one example, 100 examples and
the whole training set, next to the best point of the sampled line, (2) the notes' step-size sweep
along -dW next to the exact line search, then writes the figures into ``--out``:

    landscape_notes.png    the three panels of the notes (line, plane for one example, plane for 100)
    landscape_line.png     the loss along the line for the whole training set
    landscape_descent.png  a plane through the end point of steepest descent (exact line searches),
                           spanned by the way back to the start and a random direction, with the path
"""

from __future__ import annotations

import os
import time

import numpy as np

NAME = "landscape"
HELP = "draw the loss along random lines and planes (the notes' figures) and find exact SVM line minima"

DESCENT_STEPS = 20


def add_arguments(parser) -> None:
    parser.add_argument(
        "--data", default="digits", help="data set: digits (default), cifar10:PATH, mnist:PATH, synthetic[:N]"
    )
    parser.add_argument("--loss", choices=("svm", "softmax"), default="svm", help="loss function (default svm)")
    parser.add_argument("--out", default="landscape", help="folder for the PNG figures (default ./landscape)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the directions (default 0)")
    parser.add_argument("--backend", default=None, help="cpp, numba, numpy or auto (default: the current backend)")
    parser.add_argument(
        "--points", type=int, default=51, help="grid points per axis of the planes (default 51; lines get 2*points - 1)"
    )
    parser.add_argument(
        "--reg", type=float, default=0.0, help="regularization strength (default 0, as in the notes' figures)"
    )
    parser.add_argument("--no-plots", action="store_true", help="print the tables only (no matplotlib needed)")


def run(args) -> int:
    from .. import _backends, _validate
    from .._table import table
    from ..datasets import load_dataset
    from ..landscape import (
        auto_span,
        centered_grid,
        descent_path,
        exact_line_minimum,
        exact_line_search,
        loss_along_line,
        loss_on_plane,
        plot_notes_figure,
        random_direction,
    )
    from ..landscape.descent import NOTES_STEPS
    from ..losses import SoftmaxLoss, SVMLoss

    points = _validate.integer(args.points, "--points", low=3)
    seed = _validate.integer(args.seed, "--seed", low=0)
    reg = _validate.reg(args.reg)
    backend = _backends.resolve(args.backend)  # refuse an unknown or unavailable backend before any work
    out = None if args.no_plots else _validate.creatable_dir(args.out, "--out")  # made once the data loaded
    if not args.no_plots:
        from ..landscape.plots import require_matplotlib

        require_matplotlib()
    from . import numba_compile_notice

    numba_compile_notice([backend])

    data = load_dataset(args.data, seed=seed)
    cls = SVMLoss if args.loss == "svm" else SoftmaxLoss
    loss = cls(data.X_train, data.y_train, reg=reg, backend=args.backend)
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((data.classes, data.n_features)) * 0.001).astype(data.dtype)
    d1 = random_direction(W, rng)
    print(
        f"{data.name}: D = {data.n_features}, N = {loss.n}, {data.classes} classes; {loss!r}; "
        f"backend {_backends.resolve(args.backend)}; W = 0.001 * randn (seed {seed})"
    )

    # (1) lines through W along one random direction
    start = time.perf_counter()
    subsets = [
        ("1 example", loss.subset([0])),
        (f"{min(100, loss.n)} examples", loss.subset(np.arange(min(100, loss.n)))),
        (f"all {loss.n} examples", loss),
    ]
    span = auto_span(subsets[1][1], W, d1)
    alphas = centered_grid(2 * points - 1, span)
    rows = []
    for label, part in subsets:
        sl = loss_along_line(part, W, d1, alphas)
        ga, gv = sl.grid_minimum
        if loss.has_exact_line:
            exact = exact_line_minimum(part, W, d1)
            rows.append((label, exact.n_breakpoints, exact.alpha, exact.loss, ga, gv, sl.losses[len(alphas) // 2]))
        else:
            rows.append((label, ga, gv, sl.losses[len(alphas) // 2]))
    if loss.has_exact_line:
        print(
            table(
                [
                    "examples",
                    "breakpoints",
                    "exact argmin a",
                    "exact min loss",
                    f"grid argmin a ({len(alphas)} pts)",
                    "grid min",
                    "loss at W",
                ],
                rows,
                title=f"\nSVM loss along W + a*d (d Gaussian): exact minimum over the whole line "
                f"vs the sampled grid [-{span:g}, {span:g}]",
            )
        )
    else:
        print(
            table(
                ["examples", f"grid argmin a ({len(alphas)} pts)", "grid min", "loss at W"],
                rows,
                title=f"\nsoftmax loss along W + a*d (d Gaussian), sampled on [-{span:g}, {span:g}]",
            )
        )

    # (2) the notes' step-size sweep along -dW, and the exact line search
    loss0, dW = loss.loss_grad(W)
    sweep = [(f"{s:g}", loss(W - s * dW)) for s in NOTES_STEPS]
    best = min(sweep, key=lambda r: r[1])
    rows = [(step, value, "best of the sweep" if (step, value) == best else "") for step, value in sweep]
    if loss.has_exact_line:
        ls = exact_line_search(loss, W, dW)
        rows.append((f"{ls.step:.6g}", ls.loss, "exact line search"))
    print(
        table(
            ["step size", "new loss", "which"],
            rows,
            title=f"\nalong -dW from loss {loss0:.6g}: the notes' sweep"
            + (" and the exact line search" if loss.has_exact_line else ""),
        )
    )
    print(f"(computed in {time.perf_counter() - start:.2f} s)")

    if out is None:
        return 0

    # (3) figures
    _validate.writable_dir(out, "--out")
    written = []
    path = os.path.join(out, "landscape_notes.png")
    plot_notes_figure(loss, W, seed=seed, reg=None, line_points=2 * points - 1, plane_points=points, path=path)
    written.append(path)

    path = os.path.join(out, "landscape_line.png")
    loss_along_line(loss, W, d1, alphas).plot(
        path=path, title=f"{loss.name} loss along a random line, all {loss.n} examples"
    )
    written.append(path)

    trajectory = descent_path(loss, W, DESCENT_STEPS)
    end = trajectory[-1]
    back = (W - end).astype(W.dtype)
    if np.any(back):
        side = random_direction(end, rng).astype(np.float64)
        b64 = back.astype(np.float64)
        side -= (np.vdot(side, b64) / np.vdot(b64, b64)) * b64  # orthogonal to the way back, same length
        side *= np.linalg.norm(b64) / np.linalg.norm(side)
        grid = centered_grid(points, 1.25)
        plane = loss_on_plane(loss, end, back, side.astype(W.dtype), grid, grid)
        path = os.path.join(out, "landscape_descent.png")
        plane.plot(
            path=path,
            trajectory=trajectory,
            title=f"{loss.name}: {len(trajectory) - 1} descent steps"
            + (" (exact line search)" if loss.has_exact_line else "")
            + ", end at centre",
        )
        written.append(path)
    print(f"\nloss after {len(trajectory) - 1} descent steps: {loss(end):.6g} (from {loss0:.6g})")
    for path in written:
        print(f"wrote {path}")
    return 0
