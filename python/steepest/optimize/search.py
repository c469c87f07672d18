"""The fast path of random search: many candidate W evaluated in one pass over X (DESIGN.md section 2).

K candidates are stacked into one (K*C, D) matrix; for each block of columns of X one product
``Wstack @ X_block`` gives the (K*C, B) scores of every candidate, and a vectorized pass turns them
into each candidate's data-loss sum. Reading X once per K candidates instead of K times is what
makes it fast; the losses are the ones the one-at-a-time kernels return, up to rounding (1e-15).
"""

from __future__ import annotations

import numpy as np

from ..losses import LinearLoss, SVMLoss

# The stacked product is a large GEMM: (K*C, D) @ (D, B) with K*C in the hundreds. NumPy's BLAS
# (OpenBLAS / MKL dgemm, packed and register-blocked) runs it near the machine's peak, while the
# backends' `scores` kernels are tuned for C = 10 rows, where reading X (memory) is the bound.
# bench/bench_optimize.py measures both ("stacked product") on every available backend. On the
# 2-core machine here, for (640, 3073) @ (3073, 6553): BLAS 0.97 s, the cpp kernel 1.32 s (0.74x),
# numba 2.57 s, numpy (blocked BLAS) 1.76 s; so "blas" is the default. Set "kernel" to use the backend.
STACKED_PRODUCT = "blas"
SCORE_BYTES = 32 << 20  # bound on the (K*C, B) float64 score block
XCAST_BYTES = 32 << 20  # bound on a float64 copy of a float32 column block


def default_block(C: int, D: int) -> int:
    """Candidates per pass over X: enough rows for an efficient GEMM, scores kept small."""
    return max(1, min(64, 640 // max(C, 1)))


def column_block(K: int, C: int, D: int, itemsize: int, n: int) -> int:
    cols = SCORE_BYTES // (8 * K * C)
    if itemsize != 8:
        cols = min(cols, XCAST_BYTES // (8 * D))
    return int(max(64, min(cols, n)))


@np.errstate(over="ignore", invalid="ignore")
def _svm_sums(S: np.ndarray, yb: np.ndarray, delta: float) -> np.ndarray:
    """sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) for every candidate: S (K, C, B) -> (K,)."""
    cols = np.arange(S.shape[2])
    M = S - S[:, yb, cols][:, None, :]
    M += delta
    M[:, yb, cols] = 0.0
    np.maximum(M, 0.0, out=M)
    return M.sum(axis=(1, 2))


@np.errstate(over="ignore", invalid="ignore")
def _softmax_sums(S: np.ndarray, yb: np.ndarray) -> np.ndarray:
    """sum_i (logsumexp(s_i) - s_{y_i}) for every candidate, max-shifted: S (K, C, B) -> (K,)."""
    cols = np.arange(S.shape[2])
    Z = S - S.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z).sum(axis=1))
    return (lse - Z[:, yb, cols]).sum(axis=1)


def data_loss(loss: LinearLoss, S: np.ndarray) -> np.ndarray:
    """The data loss (no reg) of score blocks S (K, C, n) on all of the loss's examples: (K,)."""
    y = loss.labels
    sums = _svm_sums(S, y, loss.delta) if isinstance(loss, SVMLoss) else _softmax_sums(S, y)
    return sums / S.shape[2]


def block_losses(loss: LinearLoss, Wblk: np.ndarray, kernels, n_threads: int) -> np.ndarray:
    """The loss of each of the K candidates ``Wblk`` (K, C, D) in one pass over X: (K,) float64."""
    K, C, D = Wblk.shape
    X, idx, y, n = loss.X, loss._idx, loss.labels, loss.n
    W64 = Wblk.astype(np.float64, copy=False)
    Wstack = W64.reshape(K * C, D)
    if STACKED_PRODUCT != "blas":
        Wstack_k = Wblk.reshape(K * C, D)
    cols = column_block(K, C, D, X.dtype.itemsize, n)
    sums = np.zeros(K)
    svm = isinstance(loss, SVMLoss)
    for start in range(0, n, cols):
        part = slice(start, min(start + cols, n))
        if STACKED_PRODUCT == "blas":
            Xb = X[:, part] if idx is None else X[:, idx[part]]
            S = Wstack @ Xb.astype(np.float64, copy=False)
        else:  # the backend kernel gathers the columns itself
            where = np.arange(part.start, part.stop, dtype=np.int64) if idx is None else np.ascontiguousarray(idx[part])
            S = kernels.scores(Wstack_k, X, where, n_threads).astype(np.float64, copy=False)
        S = S.reshape(K, C, -1)
        sums += _svm_sums(S, y[part], loss.delta) if svm else _softmax_sums(S, y[part])
    reg = np.array([float(np.sum(w * w)) for w in W64])
    return sums / n + loss.reg * reg
