"""Shared fixtures: every test that takes ``backend`` runs once per available backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import steepest

BACKENDS = steepest.backends()

# Real MNIST t10k files live beside the repository (never copied into it); tests skip without them.
MNIST_DIR = Path(os.environ.get("STEEPEST_MNIST_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return np.dtype(request.param)


def make_problem(C=10, D=7, N=1000, dtype=np.float64, seed=0, order="C", scale=1.0):
    """A random linear-classifier problem: W (C, D), X (D, N) in the given memory order, y (N,)."""
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((C, D)) * scale).astype(dtype)
    X = rng.standard_normal((D, N)).astype(dtype)
    if order == "F":
        X = np.asfortranarray(X)
    y = rng.integers(0, C, N)
    return W, X, y
