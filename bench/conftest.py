"""Benchmarks (not part of the test suite): one pytest-benchmark group per operation.

Each group holds one operation (e.g. "svm loss+grad, float64, N=50,000, X (D, N) F order") on every
backend next to its baselines: the NumPy reference at 1 BLAS thread and at its default, and the memory
floor (reading X once with all threads). pytest-benchmark prints every column's ratio to the group's
fastest in parentheses, so each group reads as a ratio table::

    python -m pytest bench -p no:randomly --benchmark-only --benchmark-group-by=group \\
        --benchmark-columns=median,iqr,min,rounds --benchmark-sort=name --benchmark-autosave
    python -m pytest bench -p no:randomly --benchmark-only --benchmark-group-by=group \\
        --benchmark-columns=median,iqr,min,rounds --benchmark-compare      # against the last saved run
    python -m pytest bench -k "svm and float64 and F" --benchmark-only    # one group
    STEEPEST_BENCH_N=2000 python -m pytest bench -q --benchmark-disable   # smoke run: each one once, checked

The workload is CIFAR-shaped synthetic data (``steepest.cli.measure.cifar_shaped``), D = 3073, C = 10,
N = STEEPEST_BENCH_N (default 50,000). Every benchmark checks its result against NumPy before it is timed.
pytest-benchmark times the members of a group one after the other; ``steepest bench`` and the scripts
``bench/bench_*.py`` time side by side in interleaved rounds (``steepest.cli.measure``), which a shared
machine's drift affects less.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from steepest.cli import measure

N = int(os.environ.get("STEEPEST_BENCH_N", "50000"))

# The NumPy baselines of every group: the reference at one BLAS thread (the assignment's setting in
# the figures, independent of the machine's cores) and at the BLAS library's default.
BLAS = {"NumPy 1 BLAS thread": 1, "NumPy default BLAS": None}


def group(operation: str, dtype: str, order: str | None = None) -> str:
    """The benchmark group of an operation on the CIFAR-shaped workload."""
    return f"{operation}, {dtype}, N={N:,}" + (f", X (D, N) {order} order" if order else "")


def in_groups(groups: dict[str, str], variants) -> list:
    """``pytest.param(key, variant)`` for every group key and variant, each marked with its group."""
    return [
        pytest.param(key, v, id=f"{key}-{v}", marks=pytest.mark.benchmark(group=name))
        for key, name in groups.items()
        for v in variants
    ]


class Workload:
    """The arrays of each dtype, made once per session: rows (N, D) as the assignment holds them, X = rows.T
    (F order, read in place), its C-order copy on first use, labels y and weights W (C, D)."""

    def __init__(self) -> None:
        self._made: dict = {}

    def get(self, dtype: str, order: str = "F"):
        if (dtype, "F") not in self._made:
            rows, y, W = measure.cifar_shaped(N, dtype=np.dtype(dtype))
            self._made[(dtype, "F")] = (rows, rows.T, y, W)
        if (dtype, order) not in self._made:
            rows, XF, y, W = self._made[(dtype, "F")]
            self._made[(dtype, order)] = (rows, np.ascontiguousarray(XF), y, W)
        return self._made[(dtype, order)]


@pytest.fixture(scope="session")
def workload():
    return Workload()


@pytest.fixture(scope="session")
def cifar64(workload):
    rows, _, y, W = workload.get("float64")
    return rows, y, W
