"""Shared fixtures: every test that takes ``backend`` runs once per available backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import steepest

from naive import make_problem  # noqa: F401  (the shared problem builder; some modules import it from here)

BACKENDS = steepest.backends()

# Real MNIST t10k files live beside the repository (never copied into it); tests skip without them.
MNIST_DIR = Path(
    os.environ.get("STEEPEST_MNIST_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return np.dtype(request.param)
