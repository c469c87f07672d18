"""Benchmarks (not part of the test suite): ``python -m pytest bench -p no:randomly --benchmark-only``.

The workload is CIFAR-shaped synthetic data, D = 3073, C = 10, N = STEEPEST_BENCH_N (default 50,000).
Every benchmark checks its result against NumPy before it is timed; compare the groups' ratios.
For the whole table in one process, run ``steepest bench``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from steepest.cli.measure import cifar_shaped

N = int(os.environ.get("STEEPEST_BENCH_N", "50000"))


@pytest.fixture(scope="session")
def cifar64():
    rows, y, W = cifar_shaped(N)
    return rows, y, W


@pytest.fixture(scope="session")
def cifar32():
    rows, y, W = cifar_shaped(N, dtype=np.float32)
    return rows, y, W
