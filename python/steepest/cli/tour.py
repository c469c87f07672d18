"""``steepest tour``: the notes' story on real data (the main job)."""

from __future__ import annotations

NAME = "tour"
HELP = "walk the CS231n optimization story on real data: random search to mini-batch SGD"


def add_arguments(parser) -> None:
    parser.add_argument("--data", default="digits",
                        help="digits (default, built in), cifar10:PATH, mnist:PATH, synthetic[:N]")
    parser.add_argument("--backend", default=None, help="cpp, numba, numpy or auto (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--out", default=None, help="folder for tour.json, CSV tables and PNG figures")
    parser.add_argument("--tries", type=int, default=1000, help="random-search tries and local-search iterations (default 1000)")
    parser.add_argument("--iters", type=int, default=None, help="mini-batch SGD iterations (default 1500)")
    parser.add_argument("--quick", action="store_true", help="fewer tries and iterations (a smoke run)")


def run(args) -> int:
    from .tour_run import run_tour

    for option, value in (("--tries", args.tries), ("--iters", args.iters)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1; got {value}")
    run_tour(args.data, backend=args.backend, seed=args.seed, out=args.out, num_tries=args.tries,
             num_iters=args.iters, quick=args.quick)
    return 0
