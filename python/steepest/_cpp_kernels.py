"""The ``cpp`` backend: thin pass-through to the compiled ``steepest._core``.

Implements the kernel interface of ``notes/KERNELS.md`` (see ``steepest._backend``). Inputs have
been validated by ``steepest._validate``; the compiled functions still refuse a wrong dtype, a
non-contiguous or misaligned buffer (``TypeError``) or mismatched shapes (``ValueError``) as a second
line of defence, and never copy or convert an array. They release the GIL while they run, use the
persistent C++ thread pool (``n_threads`` workers), give bitwise identical results for any thread
count, and poll for Ctrl-C every 50 ms (``KeyboardInterrupt``; the module stays usable).

Importing this module raises ``ImportError`` when the extension was not built.
"""

from __future__ import annotations

import numpy as np

from steepest import _core

__all__ = [
    "scores",
    "svm_loss_grad",
    "softmax_loss_grad",
    "svm_fd",
    "softmax_fd",
    "svm_grid",
    "softmax_grid",
    "cpu_features",
    "simd_path",
]


def scores(W: np.ndarray, X: np.ndarray, idx: np.ndarray | None, n_threads: int) -> np.ndarray:
    """``S = W @ X[:, idx]``, shape (C, B), in W's dtype; one pass over the used columns of X."""
    return _core.scores(W, X, idx, n_threads)


def svm_loss_grad(
    W: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray | None,
    reg: float,
    delta: float,
    want_grad: bool,
    n_threads: int,
) -> tuple[float, np.ndarray | None]:
    """Multiclass SVM loss and gradient (``None`` unless ``want_grad``) in one pass over X."""
    return _core.svm_loss_grad(W, X, y, idx, float(reg), float(delta), bool(want_grad), n_threads)


def softmax_loss_grad(
    W: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray | None,
    reg: float,
    want_grad: bool,
    n_threads: int,
) -> tuple[float, np.ndarray | None]:
    """Softmax loss (log-sum-exp form) and gradient (``None`` unless ``want_grad``), one pass over X."""
    return _core.softmax_loss_grad(W, X, y, idx, float(reg), bool(want_grad), n_threads)


def svm_fd(
    W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, delta: float, h: float, n_threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact SVM loss changes ``plus = L(W + e+ E_cd) - L(W)``, ``minus = L(W - e- E_cd) - L(W)`` for every
    weight, and the kink counts (float64 W and X)."""
    return _core.svm_fd(W, X, y, float(reg), float(delta), float(h), n_threads)


def softmax_fd(
    W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, h: float, n_threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact softmax loss changes ``plus`` and ``minus`` for every weight (float64 W and X)."""
    return _core.softmax_fd(W, X, y, float(reg), float(h), n_threads)


def svm_grid(
    S0: np.ndarray,
    S1: np.ndarray,
    S2: np.ndarray | None,
    y: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    delta: float,
    n_threads: int,
) -> np.ndarray:
    """SVM data loss of ``S0 + a S1 + b S2`` for every (a, b) of the grid, (len(alphas), len(betas))."""
    return _core.svm_grid(S0, S1, S2, y, alphas, betas, float(delta), n_threads)


def softmax_grid(
    S0: np.ndarray,
    S1: np.ndarray,
    S2: np.ndarray | None,
    y: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    n_threads: int,
) -> np.ndarray:
    """Softmax data loss of ``S0 + a S1 + b S2`` for every (a, b) of the grid."""
    return _core.softmax_grid(S0, S1, S2, y, alphas, betas, n_threads)


def cpu_features() -> dict[str, bool]:
    """The CPU features the SIMD dispatch looked at (dict of bools)."""
    return dict(_core.cpu_features())


def simd_path() -> str:
    """The SIMD path in use: ``"baseline"``, ``"avx2"`` or ``"avx512"`` (``STEEPEST_SIMD`` forces a lower one)."""
    return str(_core.simd_path())
