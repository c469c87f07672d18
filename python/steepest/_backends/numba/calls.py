"""How Python calls the Numba kernels so that Ctrl-C works (see ``steepest._interrupt``).

Python raises KeyboardInterrupt between two bytecodes, never inside compiled code: a kernel called from Python
(decorated with :func:`entry`) returns no arrays, only scalars or nothing, writing into arrays its caller
allocated (boxing a returned array runs Python code inside Numba's wrapper, where the pending KeyboardInterrupt
becomes a ``SystemError``), and a long pass is cut into launches of about ``LAUNCH_WORK`` each.
"""

from __future__ import annotations

import functools

from ..._interrupt import keep_ctrl_c

#: Multiply-adds (or their cost in time) one kernel launch gives each thread: about 15 ms. Ctrl-C is seen
#: when Python runs again, between two launches.
LAUNCH_WORK = 64_000_000


def entry(kernel):
    """Mark an ``njit`` function called from Python: its compilation (or loading from the cache), on the first
    call with new argument types, goes through ``keep_ctrl_c``: a Ctrl-C raised inside LLVM's callbacks to
    Numba's compiler is reported as "Exception ignored" there and would be lost."""
    kernel._compile_for_args = functools.partial(keep_ctrl_c, kernel._compile_for_args)
    return kernel
