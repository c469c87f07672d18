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

Two ways a Ctrl-C can get lost in compiled code, and what prevents them:

- Python code run *inside* a C call sees the pending KeyboardInterrupt first. Where that C code does not
  expect an exception it is mangled (Numba's wrapper boxing a returned array calls Python and turns it into
  ``SystemError: ... returned a result with an exception set``) or dropped ("Exception ignored" for a
  Python callback called through ctypes, as Numba's compiler is from LLVM). The Numba kernels therefore
  return no arrays (their outputs are allocated by the caller), and their compilation runs through
  :func:`keep_ctrl_c`, which raises the dropped KeyboardInterrupt again afterwards.
- A long kernel runs no Python at all: the Numba passes are cut into launches of about 15 ms (Python
  runs between two), the C++ core polls for signals every 50 ms at most.
"""

from __future__ import annotations

import sys
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


def keep_ctrl_c(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, then KeyboardInterrupt if a Ctrl-C during it was raised in a Python callback of
    C code that reported it as "Exception ignored" (``sys.unraisablehook``) and went on, also when the call then
    failed for want of what the callback did; other such reports go to the hook in place. No signal handler is
    involved; the hook is restored on every way out."""
    lost: list[Any] = []
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            lost.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        result = call(*args, **kwargs)
    except Exception as exc:
        if lost:  # the call went on without the callback's work and failed for that (Numba: RuntimeError)
            raise KeyboardInterrupt from exc
        raise
    finally:
        sys.unraisablehook = previous
    if lost:
        raise KeyboardInterrupt
    return result
