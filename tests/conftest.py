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


def ref_kinks(W, X, y, delta, h):
    """Brute-force count of the SVM hinge terms each weight (c, d) moves across its kink under a
    step h (KERNELS.md): terms (i, j), j != y_i, with x_di != 0 and |m_ji| <= h |x_di|; a term is
    touched by W[j, d] and by W[y_i, d]."""
    C, D = W.shape
    N = X.shape[1]
    S = W @ X
    M = S - S[y, np.arange(N)] + delta
    notlabel = np.ones_like(M, dtype=bool)
    notlabel[y, np.arange(N)] = False
    K = np.zeros((C, D), dtype=np.int64)
    for d in range(D):
        x = X[d]
        near = (np.abs(M) <= h * np.abs(x)) & (x != 0) & notlabel  # (C, N) terms near their kink
        for c in range(C):
            K[c, d] = near[c].sum() + near[:, y == c].sum()
    return K
