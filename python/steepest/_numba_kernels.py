"""Numba backend: the kernel interface of ``notes/KERNELS.md`` compiled with ``numba.njit``.

Every function here takes inputs already validated by ``steepest._validate`` and never re-checks
them. Conventions (see KERNELS.md):

- ``W`` (C, D) C-contiguous; ``X`` (D, N) of W's dtype, C- *or* F-contiguous, read in place (the
  kernels copy tiles of 32 examples into a small float64 buffer, never the whole of X).
- All sums accumulate in float64, also for float32 inputs; losses are Python floats, gradients
  have W's dtype.
- Determinism: the examples are cut into blocks of fixed size (``BLOCK``, ``FD_BLOCK``: constants,
  independent of the thread count); each block writes its own partial (loss, dW) slot and the slots
  are summed in block order. Results are bitwise identical for any ``n_threads`` and across calls.
- No fast-math flags at all: every summation order is the one written in the source (see
  ``_numba_tiles`` for how the loops still vectorize without reassociation).

Cost: ``svm_loss_grad`` / ``softmax_loss_grad`` read X once; ``svm_fd`` / ``softmax_fd`` read it
twice (scores, then the per-weight changes); the grids never touch X.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import njit, prange

from ._numba_fd import FD_BLOCK, softmax_fd_blocks, svm_fd_blocks
from ._numba_tiles import (
    TILE,
    fill_tiles,
    softmax_tile,
    sum_blocks,
    svm_tile,
    tile_grad,
    tile_scores,
)

__all__ = [
    "scores",
    "svm_loss_grad",
    "softmax_loss_grad",
    "svm_fd",
    "softmax_fd",
    "svm_grid",
    "softmax_grid",
]

#: Examples per block of the loss / gradient kernels (one (C, D) float64 partial per block).
BLOCK = 512
#: Examples per lane group in the grid kernels.
_LANES = 64

_SVM, _SOFTMAX = 0, 1

# Numba's default "workqueue" threading layer must not be entered by two Python threads at once
# (it aborts the process). Every parallel launch therefore holds this lock. It is correct and
# cannot deadlock: it is only taken here, around one kernel call that never calls back into
# Python or takes another lock, so a holder always releases it (try/finally), and the kernels
# are nogil, so waiting threads do not block the holder.
_launch_lock = threading.Lock()


def _run(kernel, n_threads, *args, units: int):
    """Call a parallel kernel with ``n_threads`` threads (clamped to Numba's pool size and to the
    ``units`` of parallel work: waking idle workers for one block costs far more than the block)
    under the launch lock, restoring this thread's previous Numba thread count afterwards."""
    n = max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS, int(units)))
    with _launch_lock:
        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(previous)


def _blocks(n: int, size: int) -> int:
    return (int(n) + size - 1) // size


def _layout(X):
    """(Xc, Xr, c_order): X itself when C-ordered, else its transpose (N, D), C-ordered too."""
    empty = np.empty((0, 0), dtype=X.dtype)
    if X.flags.c_contiguous:
        return X, empty, True
    return empty, X.T, False


def _ids(X, idx):
    return np.arange(X.shape[1], dtype=np.int64) if idx is None else idx


@njit(cache=True, nogil=True)
def _sumsq(W):
    """``sum(W * W)`` in float64, in index order."""
    total = 0.0
    for c in range(W.shape[0]):
        for d in range(W.shape[1]):
            w = np.float64(W[c, d])
            total += w * w
    return total


@njit(cache=True, nogil=True, parallel=True)
def _scores_kernel(W64, Xc, Xr, c_order, ids_all, out):
    C, D = W64.shape
    B = ids_all.shape[0]
    nt = (B + TILE - 1) // TILE
    for b in prange(nt):
        xc = np.empty((D, TILE))
        xr = np.empty((0, D))
        St = np.empty((C, TILE))
        i0 = b * TILE
        t = min(TILE, B - i0)
        fill_tiles(Xc, Xr, c_order, ids_all[i0:i0 + t], xc, xr, False)
        tile_scores(W64, xc, t, St)
        for c in range(C):
            for k in range(t):
                out[c, i0 + k] = St[c, k]


@njit(cache=True, nogil=True, parallel=True)
def _loss_grad_kernel(W64, Xc, Xr, c_order, y, ids_all, kind, delta, want_grad):
    """Per-block data-loss sums (nb,) and, if ``want_grad``, per-block dL/dW sums (nb, C, D)."""
    C, D = W64.shape
    B = ids_all.shape[0]
    nb = (B + BLOCK - 1) // BLOCK
    losses = np.zeros(nb)
    grads = np.zeros((nb if want_grad else 0, C, D))
    nr = TILE if want_grad else 0
    for b in prange(nb):
        xc = np.empty((D, TILE))
        xr = np.empty((nr, D))
        St = np.empty((C, TILE))
        coef = np.empty((C, TILE))
        b1 = min(B, (b + 1) * BLOCK)
        total = 0.0
        for i0 in range(b * BLOCK, b1, TILE):
            t = min(TILE, b1 - i0)
            ids = ids_all[i0:i0 + t]
            fill_tiles(Xc, Xr, c_order, ids, xc, xr, want_grad)
            tile_scores(W64, xc, t, St)
            if kind == _SVM:
                total += svm_tile(St, y, ids, t, delta, coef)
            else:
                total += softmax_tile(St, y, ids, t, coef)
            if want_grad:
                tile_grad(coef, xr, t, grads[b])
        losses[b] = total
    return losses, grads


def _loss_grad(kind, W, X, y, idx, reg, delta, want_grad, n_threads):
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    Xc, Xr, c_order = _layout(X)
    ids = _ids(X, idx)
    B = ids.shape[0]
    losses, grads = _run(_loss_grad_kernel, n_threads, W64, Xc, Xr, c_order, y, ids, kind,
                         float(delta), bool(want_grad), units=_blocks(B, BLOCK))
    total = 0.0
    for part in losses.tolist():  # block order
        total += part
    loss = total / B + reg * _sumsq(W64)
    if not want_grad:
        return loss, None
    C, D = W.shape
    data = np.empty(C * D)
    sum_blocks(grads.reshape(grads.shape[0], C * D), data, 1.0 / B)
    dW = data.reshape(C, D) + (2.0 * reg) * W64
    return loss, dW.astype(W.dtype, copy=False)


def scores(W, X, idx, n_threads):
    """``S = W @ X[:, idx]`` (C, B) in W's dtype, accumulated in float64. One pass over X."""
    Xc, Xr, c_order = _layout(X)
    ids = _ids(X, idx)
    out = np.empty((W.shape[0], ids.shape[0]), dtype=W.dtype)
    _run(_scores_kernel, n_threads, np.ascontiguousarray(W, dtype=np.float64), Xc, Xr, c_order,
         ids, out, units=_blocks(ids.shape[0], BLOCK))
    return out


def svm_loss_grad(W, X, y, idx, reg, delta, want_grad, n_threads):
    """Multiclass SVM loss ``(1/B) sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg sum(W*W)``
    and its gradient (or None). One pass over X."""
    return _loss_grad(_SVM, W, X, y, idx, reg, delta, want_grad, n_threads)


def softmax_loss_grad(W, X, y, idx, reg, want_grad, n_threads):
    """Softmax loss ``(1/B) sum_i (logsumexp(s_i) - s_{y_i}) + reg sum(W*W)`` and its gradient
    (or None). One pass over X."""
    return _loss_grad(_SOFTMAX, W, X, y, idx, reg, 1.0, want_grad, n_threads)


def _steps(W, h):
    """The steps the reference loop really takes: ``(w + h) - w`` and ``w - (w - h)``."""
    W = np.asarray(W, dtype=np.float64)
    return (W + h) - W, W - (W - h)


def _reg_change(W, reg, e):
    return reg * (e * (2.0 * W + e))


def svm_fd(W, X, y, reg, delta, h, n_threads):
    """Exact ``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` of the SVM for every
    weight, and the number of hinge terms each weight moves across its kink within ``[-h, h]``.
    float64; two passes over X. Returns (plus, minus, kinks int64)."""
    W = np.asarray(W, dtype=np.float64)
    C, D = W.shape
    N = y.shape[0]
    eP, eM = _steps(W, h)
    S = scores(W, X, None, n_threads).astype(np.float64, copy=False)
    Xc, Xr, c_order = _layout(X)
    P, M, K = _run(svm_fd_blocks, n_threads, S, Xc, Xr, c_order, y, float(delta), float(h), eP, eM,
                   units=_blocks(N, FD_BLOCK))
    plus, minus, kinks = np.empty(C * D), np.empty(C * D), np.empty(C * D, dtype=np.int64)
    sum_blocks(P.reshape(P.shape[0], C * D), plus, 1.0 / N)
    sum_blocks(M.reshape(M.shape[0], C * D), minus, 1.0 / N)
    sum_blocks(K.reshape(K.shape[0], C * D), kinks, 1)
    plus = plus.reshape(C, D) + _reg_change(W, reg, eP)
    minus = minus.reshape(C, D) + _reg_change(W, reg, -eM)
    return plus, minus, kinks.reshape(C, D)


def softmax_fd(W, X, y, reg, h, n_threads):
    """Exact ``L(W + e_plus E_cd) - L(W)`` and ``L(W - e_minus E_cd) - L(W)`` of the softmax loss
    for every weight (float64; two passes over X). Returns (plus, minus)."""
    W = np.asarray(W, dtype=np.float64)
    C, D = W.shape
    N = y.shape[0]
    eP, eM = _steps(W, h)
    emax = float(max(np.max(eP), np.max(eM)))
    S = scores(W, X, None, n_threads).astype(np.float64, copy=False)
    Xc, Xr, c_order = _layout(X)
    P, M = _run(softmax_fd_blocks, n_threads, S, Xc, Xr, c_order, y, eP, eM, emax, units=_blocks(N, FD_BLOCK))
    plus, minus = np.empty(C * D), np.empty(C * D)
    sum_blocks(P.reshape(P.shape[0], C * D), plus, 1.0 / N)
    sum_blocks(M.reshape(M.shape[0], C * D), minus, 1.0 / N)
    return plus.reshape(C, D) + _reg_change(W, reg, eP), minus.reshape(C, D) + _reg_change(W, reg, -eM)


@njit(cache=True, nogil=True)
def _grid_scores(S0, S1, S2, has_s2, a, b, i0, t, s):
    """``s[:, :t] = S0 + a S1 (+ b S2)`` for columns ``i0 .. i0 + t``."""
    for j in range(S0.shape[0]):
        r0 = S0[j, i0:i0 + t]
        r1 = S1[j, i0:i0 + t]
        out = s[j, :t]
        if has_s2:
            r2 = S2[j, i0:i0 + t]
            for k in range(t):
                out[k] = r0[k] + a * r1[k] + b * r2[k]
        else:
            for k in range(t):
                out[k] = r0[k] + a * r1[k]


@njit(cache=True, nogil=True, parallel=True)
def _grid_kernel(S0, S1, S2, has_s2, y, alphas, betas, kind, delta):
    """Average data loss at every grid point; one point per parallel iteration, its examples summed
    in a fixed order (per-example losses into ``_LANES`` lanes, then the lanes in order)."""
    C, B = S0.shape
    na, nbeta = alphas.shape[0], betas.shape[0]
    out = np.empty((na, nbeta))
    for g in prange(na * nbeta):
        a = alphas[g // nbeta]
        b = betas[g % nbeta]
        s = np.empty((C, _LANES))
        lanes = np.zeros(_LANES)
        for i0 in range(0, B, _LANES):
            t = min(_LANES, B - i0)
            _grid_scores(S0, S1, S2, has_s2, a, b, i0, t, s)
            for k in range(t):
                yk = y[i0 + k]
                loss = 0.0
                if kind == _SVM:
                    sy = s[yk, k]
                    for j in range(C):
                        m = s[j, k] - sy + delta
                        if j != yk and m > 0.0:
                            loss += m
                else:
                    smax = s[0, k]
                    for j in range(1, C):
                        smax = max(smax, s[j, k])
                    z = 0.0
                    for j in range(C):
                        z += np.exp(s[j, k] - smax)
                    loss = (smax + np.log(z)) - s[yk, k]
                lanes[k] += loss
        total = 0.0
        for k in range(_LANES):
            total += lanes[k]
        out[g // nbeta, g % nbeta] = total / B
    return out


def _grid(kind, S0, S1, S2, y, alphas, betas, delta, n_threads):
    has_s2 = S2 is not None
    S2a = S2 if has_s2 else np.zeros((1, 1))
    work = alphas.shape[0] * betas.shape[0] * S0.size
    return _run(_grid_kernel, n_threads, S0, S1, S2a, has_s2, y, alphas, betas, kind, float(delta),
                units=alphas.shape[0] * betas.shape[0] if work > 1 << 16 else 1)


def svm_grid(S0, S1, S2, y, alphas, betas, delta, n_threads):
    """SVM data loss (no reg) of ``S0 + alphas[a] S1 + betas[b] S2`` at every grid point,
    (len(alphas), len(betas)) float64. O(C B) per point; never reads X."""
    return _grid(_SVM, S0, S1, S2, y, alphas, betas, delta, n_threads)


def softmax_grid(S0, S1, S2, y, alphas, betas, n_threads):
    """Softmax data loss (no reg) of ``S0 + alphas[a] S1 + betas[b] S2`` at every grid point,
    (len(alphas), len(betas)) float64. O(C B) per point; never reads X."""
    return _grid(_SOFTMAX, S0, S1, S2, y, alphas, betas, 1.0, n_threads)
