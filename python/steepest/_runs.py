"""Runs of training steps, each handed to one kernel call (``LinearLoss.stacked_train``, ``train_at``).

A call that takes many steps saves what a step costs outside the kernel (the Python loop, and in the C++
core the packing of the weights), but Ctrl-C and the progress bar see only whole calls. So the first run
is one step, and each later run as many steps as fill about ``seconds`` at the pace of the run before,
at most ``longest``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

__all__ = ["RunLengths"]


class RunLengths:
    """``for size in RunLengths(total): ...``: the lengths of the runs (they add up to ``total``); the loop
    body takes ``size`` steps, and the next length follows the time that took."""

    def __init__(self, total: int, seconds: float = 0.25, longest: int = 64) -> None:
        self.total, self.seconds, self.longest = total, seconds, longest

    def __iter__(self) -> Iterator[int]:
        done, size = 0, 1
        while done < self.total:
            size = min(size, self.total - done)
            began = time.perf_counter()
            yield size
            per_step = max(time.perf_counter() - began, 1e-9) / size
            done += size
            size = max(1, min(self.longest, int(self.seconds / per_step)))
