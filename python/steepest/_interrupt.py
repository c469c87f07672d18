"""Ctrl-C in the library's loops, done one way: no signal handler, a KeyboardInterrupt caught by the loop.

Python's own SIGINT handler raises ``KeyboardInterrupt`` in the main thread between two bytecodes. The kernels let
it through: the C++ core polls for Ctrl-C and raises it, and Numba kernels run in short calls between which Python
raises it. A loop therefore

1. makes each step's result visible with one store (a *commit*: a tuple, a list append, a swap of buffers), so a
   KeyboardInterrupt raised anywhere leaves either the state before the step or the state after it;
2. runs its steps inside ``with StopOnCtrlC() as ctrl_c:``, which ends the block quietly at Ctrl-C;
3. afterwards reads ``ctrl_c.interrupted`` and returns what the last commit reached, marked interrupted.

Work that must not stop half way once the loop is over (copying the committed state out) goes through
:func:`finish`, which runs it again when a further Ctrl-C cut it short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class StopOnCtrlC:
    """``with StopOnCtrlC() as ctrl_c:``: a KeyboardInterrupt raised in the block ends it without propagating and
    sets ``ctrl_c.interrupted``; every other exception propagates as usual."""

    def __init__(self) -> None:
        self.interrupted = False

    def __enter__(self) -> StopOnCtrlC:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.interrupted = True
            return True
        return False


def finish(step: Callable[[], Any]) -> bool:
    """Run ``step`` to its end even when Ctrl-C arrives during it: it is run again until one run completes, so it
    must be idempotent (copies, not increments). Returns True when a Ctrl-C arrived (report the run interrupted)."""
    seen = False
    while True:
        try:
            step()
            return seen
        except KeyboardInterrupt:
            seen = True
