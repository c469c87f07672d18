"""``steepest bench``: the benchmark table for this machine (ratios against NumPy and the reference)."""

from __future__ import annotations

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
    from .. import _backends
    from . import benchmarks

    if args.n < 100:
        raise ValueError(f"--n must be at least 100; got {args.n}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1; got {args.repeat}")
    backends = [_backends.resolve(b) for b in args.backend] if args.backend else None
    report = benchmarks.run(args.n, args.repeat, tuple(args.only or SECTIONS), backends)
    print(report.markdown() if args.markdown else report)
    return 0
