"""Numba building blocks shared by the loss, finite-difference and grid kernels.

Why the loops look the way they do
----------------------------------
Numba runs LLVM's loop vectorizer but not its SLP vectorizer, and the loop vectorizer only turns
a floating-point *reduction* into SIMD code when reassociation is allowed. We do not allow it (no
``fastmath``: the summation order is part of the result, and we want it fixed by the source, not by
the compiler or the vector width of the CPU). So every hot loop here is an *elementwise* update
along a contiguous axis (``out[k] += a * x[k] + b * y[k] ...``): that vectorizes without changing a
single rounding. Dot products are never written as reductions over the contiguous axis.

- Scores ``S = W @ Xt`` use the column tile ``xc`` (D, T): ``S[c, :] += W[c, d] * xc[d, :]``, four
  features per statement (register blocking: one load/store of ``S[c, :]`` per four products).
- Gradients ``G += coef @ Xt.T`` use the row tile ``xr`` (T, D): ``G[c, :] += coef[c, k] * xr[k, :]``,
  four examples per statement.

Both tiles are float64 copies of T examples (T = ``TILE``), filled from X in whichever memory order
it has (the one layout is a contiguous copy, the other a transpose that stays in cache) and from the
``idx`` gather, so the arithmetic kernels are compiled once, for float64, whatever X is.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Examples per tile: two float64 tiles of TILE x 3073 stay in a 1-2 MiB L2 cache.
TILE = 32


@njit(cache=True, nogil=True)
def fill_tiles(Xc, Xr, c_order, ids, xc, xr, want_rows):
    """Copy the examples ``ids`` of X into ``xc[:, :t]`` (features x examples) and, if ``want_rows``,
    ``xr[:t, :]`` (examples x features), converting to float64.

    ``Xc`` is X when X is C-ordered (D, N); ``Xr`` is ``X.T`` (N, D) when X is F-ordered; the
    other one is an unused empty array. Reading is row by row in X's own order (cache friendly).
    """
    t = ids.shape[0]
    if c_order:
        D = Xc.shape[0]
        for d in range(D):
            row = Xc[d]
            dst = xc[d]
            for k in range(t):
                dst[k] = row[ids[k]]
        if want_rows:
            for k in range(t):
                dst = xr[k]
                for d in range(D):
                    dst[d] = xc[d, k]
    else:
        D = Xr.shape[1]
        for k in range(t):
            src = Xr[ids[k]]
            if want_rows:
                dst = xr[k]
                for d in range(D):
                    dst[d] = src[d]
            for d in range(D):
                xc[d, k] = src[d]


@njit(cache=True, nogil=True)
def tile_scores(W, xc, t, S):
    """``S[:, :t] = W @ xc[:, :t]`` (float64; W is float64 (C, D))."""
    C, D = W.shape
    D4 = D - D % 4
    S[:, :t] = 0.0
    for d in range(0, D4, 4):
        x0 = xc[d, :t]
        x1 = xc[d + 1, :t]
        x2 = xc[d + 2, :t]
        x3 = xc[d + 3, :t]
        for c in range(C):
            w0 = W[c, d]
            w1 = W[c, d + 1]
            w2 = W[c, d + 2]
            w3 = W[c, d + 3]
            s = S[c, :t]
            for k in range(t):
                s[k] += (w0 * x0[k] + w1 * x1[k]) + (w2 * x2[k] + w3 * x3[k])
    for d in range(D4, D):
        x0 = xc[d, :t]
        for c in range(C):
            w0 = W[c, d]
            s = S[c, :t]
            for k in range(t):
                s[k] += w0 * x0[k]


@njit(cache=True, nogil=True)
def tile_grad(coef, xr, t, G):
    """``G += coef[:, :t] @ xr[:t, :]`` (float64), four examples per pass over ``G``."""
    C = coef.shape[0]
    D = xr.shape[1]
    t4 = t - t % 4
    for k in range(0, t4, 4):
        r0 = xr[k]
        r1 = xr[k + 1]
        r2 = xr[k + 2]
        r3 = xr[k + 3]
        for c in range(C):
            a0 = coef[c, k]
            a1 = coef[c, k + 1]
            a2 = coef[c, k + 2]
            a3 = coef[c, k + 3]
            g = G[c]
            for d in range(D):
                g[d] += (a0 * r0[d] + a1 * r1[d]) + (a2 * r2[d] + a3 * r3[d])
    for k in range(t4, t):
        r0 = xr[k]
        for c in range(C):
            a0 = coef[c, k]
            g = G[c]
            for d in range(D):
                g[d] += a0 * r0[d]


@njit(cache=True, nogil=True)
def svm_tile(St, y, ids, t, delta, coef):
    """SVM loss summed over the tile's examples (scores ``St[:, k]``); ``coef[:, k]`` gets dL_k/ds:
    1 per positive margin, minus their count at the label. Returns the float64 sum."""
    C = St.shape[0]
    total = 0.0
    for k in range(t):
        yk = y[ids[k]]
        sy = St[yk, k]
        loss = 0.0
        count = 0.0
        for j in range(C):
            m = St[j, k] - sy + delta
            if j != yk and m > 0.0:
                loss += m
                coef[j, k] = 1.0
                count += 1.0
            else:
                coef[j, k] = 0.0
        coef[yk, k] = -count
        total += loss
    return total


@njit(cache=True, nogil=True)
def softmax_tile(St, y, ids, t, coef):
    """Softmax cross-entropy summed over the tile, each example as ``logsumexp(s) - s[y]``
    (max-subtracted log-sum-exp, never ``-log(p)``); ``coef[:, k]`` gets ``p - onehot(y)``."""
    C = St.shape[0]
    total = 0.0
    for k in range(t):
        yk = y[ids[k]]
        smax = St[0, k]
        for j in range(1, C):
            if St[j, k] > smax:
                smax = St[j, k]
        z = 0.0
        for j in range(C):
            e = np.exp(St[j, k] - smax)
            coef[j, k] = e
            z += e
        for j in range(C):
            coef[j, k] /= z
        coef[yk, k] -= 1.0
        total += (smax + np.log(z)) - St[yk, k]
    return total


@njit(cache=True, nogil=True)
def sum_blocks(parts, out, scale):
    """``out[r] = scale * sum_b parts[b, r]`` (float64 or int64 ``parts`` (nb, R)), summing the blocks in block order (deterministic)."""
    nb = parts.shape[0]
    R = parts.shape[1]
    acc = np.zeros_like(parts[0])
    for b in range(nb):
        p = parts[b]
        for r in range(R):
            acc[r] += p[r]
    for r in range(R):
        out[r] = acc[r] * scale


@njit(cache=True, nogil=True)
def fill_rows(Xc, Xr, c_order, ids, xr):
    """Copy the examples ``ids`` of X into ``xr[:t, :]`` (examples x features, float64)."""
    t = ids.shape[0]
    if c_order:
        D = Xc.shape[0]
        for d in range(D):
            row = Xc[d]
            for k in range(t):
                xr[k, d] = row[ids[k]]
    else:
        D = Xr.shape[1]
        for k in range(t):
            src = Xr[ids[k]]
            dst = xr[k]
            for d in range(D):
                dst[d] = src[d]
