"""The ``steepest`` command.

Each subcommand lives in its own module ``steepest.cli.<name>`` exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this file only assembles them, so a new command
slots in by adding its module to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("tour", "info", "check", "landscape", "network", "bench")


def numba_needs_compiling() -> bool:
    """Whether the next call of a numba kernel compiles it: not compiled in this process and no
    usable entry in Numba's on-disk cache (a guess on Numba's cache index; True when unsure)."""
    try:
        from .._backends.numba import kernels

        dispatcher = kernels._loss_grad_kernel
        if dispatcher.signatures:
            return False
        return not dispatcher._cache._cache_file._load_index()
    except Exception:  # numba missing, or its private cache layout changed
        return True


_noticed = False


def numba_compile_notice(backends: Sequence[str]) -> bool:
    """Say on stderr, before it happens, that the first call of the numba kernels compiles them.

    Returns True when the notice was printed (``"numba"`` in ``backends``, nothing cached yet, and no
    notice printed before in this process).
    """
    global _noticed
    if _noticed or "numba" not in backends or not numba_needs_compiling():
        return False
    _noticed = True
    print(
        "compiling the numba kernels on first use: this takes 10 s to a minute once, then they are cached on disk ...",
        file=sys.stderr,
        flush=True,
    )
    return True


def _backends_asked(args: argparse.Namespace) -> list[str]:
    """The backends a command's ``--backend`` names (a list for ``bench``, where none means every one)."""
    from .. import _backends

    value = getattr(args, "backend", None)
    try:
        if isinstance(value, list):
            return [_backends.resolve(v) for v in value]
        if value is None and args.command == "bench":
            return _backends.backends()
        return [_backends.resolve(value)] if hasattr(args, "backend") else []
    except (ValueError, TypeError):  # an unknown name: the command itself says so
        return []


def _modules():
    for name in COMMANDS:
        try:
            yield importlib.import_module(f"steepest.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"steepest.cli.{name}":
                raise


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="steepest",
        description="The CS231n / Nielsen optimization toolkit: losses, exact numerical gradients, "
        "search and descent strategies, loss landscapes.",
    )
    parser.add_argument("--version", action="version", version=f"steepest {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", help="one of the commands below; `steepest COMMAND --help` lists its flags"
    )
    for module in _modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        numba_compile_notice(_backends_asked(args))
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileNotFoundError, ImportError) as exc:
        print(f"steepest {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
