"""Count the linear-loss kernel calls a piece of code makes, on any backend.

Every linear-loss kernel call goes through ``steepest._backends.get`` (``LinearLoss._kernels`` and
``LinearLoss.finite_differences``); wrapping what it returns counts each call by kernel name. Used by
the tests that check a refused call did no work first::

    with counting_kernels() as calls:
        with pytest.raises(ValueError):
            steepest.h_sweep(loss, W, hs="bad")
    assert calls.total == 0, calls
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from typing import Any

from steepest import _backends
from steepest._backends.contract import KERNEL_NAMES


class KernelCalls(collections.Counter):
    """kernel name -> number of calls."""

    @property
    def total(self) -> int:
        return sum(self.values())


class _Counting:
    def __init__(self, module: Any, calls: KernelCalls) -> None:
        self._module = module
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        if name not in KERNEL_NAMES:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls[name] += 1
            return attr(*args, **kwargs)

        return counted


@contextlib.contextmanager
def counting_kernels() -> Iterator[KernelCalls]:
    """Inside the block, every kernel fetched through ``_backends.get`` counts its calls."""
    calls = KernelCalls()
    original = _backends.get

    def get(backend: Any = None) -> Any:
        return _Counting(original(backend), calls)

    _backends.get = get
    try:
        yield calls
    finally:
        _backends.get = original
