"""``steepest check``: gradient checks of the SVM and softmax with the exact fast path, timed against
the notes' per-weight loop (an estimate: the median time of a sample of weights at one BLAS thread).

Every weight gets a verdict: it agrees, or its disagreement is explained by a hinge kink within h or
by the truncation error of the finite difference at this h (estimated per weight), or it is a bug.
The exit status is 1 only when some weight is a bug."""

from __future__ import annotations

import numpy as np

NAME = "check"
HELP = "check the analytic SVM and softmax gradients against exact finite differences, and time the loop"


def add_arguments(parser) -> None:
    parser.add_argument("--data", default="digits", help="digits (default), cifar10:PATH, mnist:PATH, synthetic[:N]")
    parser.add_argument("--backend", default=None, help="cpp, numba, numpy or auto (default: auto)")
    parser.add_argument("--h", type=float, default=1e-5, help="finite-difference step (default 1e-5)")
    parser.add_argument(
        "--method",
        choices=("centered", "forward"),
        default="centered",
        help="finite differences: centered (f(x+h) - f(x-h)) / 2h (default) or forward (f(x+h) - f(x)) / h",
    )
    parser.add_argument("--reg", type=float, default=0.0, help="L2 regularization strength")
    parser.add_argument("--sample", type=int, default=20, help="weights timed with the per-weight loop (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights checked (default 0)")
    parser.add_argument("--h-sweep", action="store_true", help="also show the error as a function of h")


def run(args) -> int:
    from .. import _backends, _validate
    from .._table import table
    from ..datasets import load_dataset
    from ..gradients import VERDICTS, grad_check, h_sweep
    from ..losses import SoftmaxLoss, SVMLoss
    from .measure import loop_estimate

    # every option is checked before the data is loaded
    _validate.integer(args.sample, "--sample", low=1)
    _validate.integer(args.seed, "--seed", low=0)
    _validate.positive(args.h, "--h")
    _validate.real(args.reg, "--reg", low=0.0)
    _validate.backend(args.backend, "--backend")
    data = load_dataset(args.data, seed=args.seed)
    print(data)
    rng = np.random.default_rng(args.seed)
    X, y = data.X_train, data.y_train
    W = rng.standard_normal((data.classes, data.n_features)) * 1e-3
    backend = _backends.resolve(args.backend)
    rows, ok, bugs = [], True, []
    for cls in (SVMLoss, SoftmaxLoss):
        loss = cls(X, y, reg=args.reg, backend=backend)
        report = grad_check(loss, W, h=args.h, method=args.method)
        print()
        print(report)
        ok &= report.ok
        picks = [(int(rng.integers(W.shape[0])), int(rng.integers(W.shape[1]))) for _ in range(args.sample)]
        loop, how = loop_estimate(loss.with_backend("numpy"), W, picks, args.h)
        counts = report.counts()
        rows.append(
            (
                loss.name,
                f"{loop:.4g} s",
                f"{report.elapsed:.4g} s",
                f"{loop / report.elapsed:,.0f}x",
                report.grade,
                " / ".join(str(counts[v]) for v in VERDICTS),
                report.ok,
            )
        )
        bugs += [(loss.name, ix) for ix in report.bugs()]
        if args.h_sweep:
            print()
            print(h_sweep(loss, W, method=args.method, sample=min(args.sample, 10), seed=args.seed))
    print()
    print(
        table(
            [
                "loss",
                "notes' loop, NumPy loss (estimate)",
                f"fast path ({backend})",
                "speed-up (estimated)",
                "grade (max rel. error)",
                " / ".join(VERDICTS),
                "ok",
            ],
            rows,
            title=f"numerical gradient of all {W.size:,} weights, {args.method} differences, h = {args.h:g}",
        )
    )
    print(f"notes' loop (centered, every weight): {how}")
    print()
    if ok:
        print(
            "no bug: every weight agrees, or its disagreement is explained by a hinge kink within h or by "
            "the truncation error of the finite difference at this h"
        )
        return 0
    shown = ", ".join(f"{name} W{ix}" for name, ix in bugs[:10]) + (" ..." if len(bugs) > 10 else "")
    print(f"{len(bugs)} weight(s) disagree beyond kinks, truncation error and round-off (bug): {shown}")
    return 1
