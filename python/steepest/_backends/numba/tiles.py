"""Numba building blocks shared by the loss, finite-difference and grid kernels.

Why the loops look the way they do
----------------------------------
Numba runs LLVM's loop vectorizer but not its SLP vectorizer, and the loop vectorizer only turns
a floating-point *reduction* into SIMD code when reassociation is allowed. We do not allow it (no
``fastmath``, except ``reassoc``/``contract`` on the small dot-product helper ``dot20``,
see the note above it: the summation order is part of the result, and we want it fixed by the source, not by
the compiler or the vector width of the CPU). So every other hot loop here is an *elementwise*
update along a contiguous axis (``out[k] += a * x[k] + b * y[k] ...``): that vectorizes without
changing a single rounding. Such a loop must index from 0 (``for k in range(v.shape[0])`` over slices):
with an index running from a variable start, ``range(d0, d1)``, Numba cannot rule out a negative index,
its wraparound select stays in the loop, and the vectorizer gives up silently (that cost the gradient
update 3x in float64, 4.5x in float32; ``tests/test_numba_vectorized.py`` guards it).

- F-ordered X is read in place, as rows of X.T (float32 or float64): scores by ``dot20``
  (``rows_scores``), gradients ``G[c, :] += coef[c, k] * x_k`` eight examples per statement
  (``rows_grad``).
- C-ordered X is gathered a tile of T = ``TILE`` examples at a time into rows ``xr`` (T, D) of X's dtype
  (``tile_rows``), and those rows go through the same ``rows_scores`` and ``rows_grad``: every result
  is bitwise the F-ordered one, whatever the memory order (and the transposed tile is read faster by
  ``dot20`` than the column tile was by elementwise score updates).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .calls import entry

#: Examples per tile: a float64 tile of TILE x 3073 (786 KB) stays in a 1-2 MiB L2 cache.
TILE = 32
#: Features per span of the gradient update: eight example rows of this span (16 KiB in float64)
#: stay in L1 while every class's row of dW is updated.
GRAD_SPAN = 256
#: Values per span of ``sum_blocks`` (8 KiB of float64).
SUM_SPAN = 1024


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
        # a non-finite label score (non-finite X column, or overflow) must not vanish in the hinge
        total += loss if np.isfinite(sy) else np.nan
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


@entry
@njit(cache=True, nogil=True)
def sum_blocks(parts, out, scale):
    """``out[r] = scale * sum_b parts[b, r]`` (float64 or int64 ``parts`` (nb, R)), summing the blocks in
    block order (deterministic)."""
    nb = parts.shape[0]
    R = parts.shape[1]
    # span by span, so each span of ``out`` stays in L1 while every block is added to it: one pass over
    # memory, not nb + 2 (a mini-batch's dW: the step 2-3 % faster), summed in ``out`` itself as 0 + p_0 + p_1 + ...
    for r0 in range(0, R, SUM_SPAN):
        o = out[r0 : min(R, r0 + SUM_SPAN)]  # slices indexed from 0, so the loops vectorize
        for r in range(o.shape[0]):
            o[r] = 0
        for b in range(nb):
            p = parts[b, r0 : r0 + o.shape[0]]
            for r in range(o.shape[0]):
                o[r] += p[r]
        for r in range(o.shape[0]):
            o[r] = o[r] * scale


# ----------------------------------------------------------------------------- grid building blocks
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2^52: v + _SHIFT rounds v to an integer held in the low bits
_EXP_MIN = -708.0  # exp(-708) ~ 3.3e-308 is the last normal result; below it we return 0


@njit(cache=True, nogil=True)
def exp_nonpos(x, n, out, kb):
    """``out[:n] = exp(x[:n])`` for ``x <= 0`` (used on ``s - max(s)``), vectorizable; ``x``, ``out``
    and ``kb`` must not overlap.

    Numba calls the scalar libm ``exp`` in a loop (no SVML here), which dominates the softmax grid.
    This is the textbook range reduction ``x = k ln2 + r`` (``|r| <= ln2 / 2``, Cody-Waite split of
    ln2) with the degree-13 Taylor polynomial of ``exp(r)`` (truncation below 2e-17 relative) and
    ``2^k`` built from its bits through the int64 view of ``kb`` (scratch, >= n). Error below
    ~1.5 ulp (checked against ``np.exp`` in the tests). Results below ``exp(-708)`` are returned as 0:
    they are only ever added to a sum that contains ``exp(0) = 1``, where they are below its ulp.
    Every loop is elementwise (no reduction), so no fast-math flag is needed to vectorize it.
    """
    ki = kb.view(np.int64)
    for i in range(n):
        v = x[i]
        v = v if v > _EXP_MIN else _EXP_MIN
        kd = v * _LOG2E + _SHIFT
        kb[i] = kd
        kd = kd - _SHIFT
        r = (v - kd * _LN2_HI) - kd * _LN2_LO
        out[i] = 1.0 + r * (
            1.0
            + r
            * (
                0.5
                + r
                * (
                    1.0 / 6.0
                    + r
                    * (
                        1.0 / 24.0
                        + r
                        * (
                            1.0 / 120.0
                            + r
                            * (
                                1.0 / 720.0
                                + r
                                * (
                                    1.0 / 5040.0
                                    + r
                                    * (
                                        1.0 / 40320.0
                                        + r
                                        * (
                                            1.0 / 362880.0
                                            + r
                                            * (
                                                1.0 / 3628800.0
                                                + r
                                                * (
                                                    1.0 / 39916800.0
                                                    + r * (1.0 / 479001600.0 + r * (1.0 / 6227020800.0))
                                                )
                                            )
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
            )
        )
    for i in range(n):
        # low 12 bits of the shifted integer are k (two's complement): bits of 2^k = (k + 1023) << 52
        ki[i] = (ki[i] + 1023) << 52
    for i in range(n):
        v = x[i]
        out[i] = out[i] * kb[i] if v > _EXP_MIN else (0.0 if v <= _EXP_MIN else v)  # NaN stays NaN


@njit(cache=True, nogil=True)
def fold_sum(L):
    """Sum of ``L`` (length a power of two) by pairwise halving, destroying ``L``. Every step is an
    elementwise add (vectorizes with no reassociation), so the order is the source's, always."""
    n = L.shape[0]
    while n > 1:
        n //= 2
        for k in range(n):
            L[k] += L[k + n]
    return L[0]


# ----------------------------------------------------------------------------- row-wise loss tiles
# Dot products are the one place where we let LLVM reassociate: ``fastmath={"reassoc", "contract"}``
# on these small helpers only (never blanket fastmath: no "nnan"/"ninf"/"nsz"/"arcp"/"afn", so NaN,
# inf and signed zeros behave as in IEEE arithmetic). Reassociation lets the loop vectorizer split
# each sum into vector lanes; the split is chosen once at compile time from the loop alone (vector
# width, interleave count) and does not depend on the data, the thread count or which block runs
# where, so a given compiled binary still gives bitwise identical results for any ``n_threads``
# and across calls. (The order may differ between CPUs with different vector units: results are
# reproducible per machine, as with any BLAS.)
_DOT_MATH = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_DOT_MATH)
def dot20(w0, w1, w2, w3, w4, r0, r1, r2, r3):
    """The twenty float64 dot products of five rows of W (``w0 .. w4``) against four examples (``r0 .. r3``,
    float32 or float64) in one pass: 9 loads per 20 multiply-adds (two rows against four examples took 6
    per 8: the F-order loss+grad 0.85-0.88x, float32 0.9x, the mini-batch step 0.91x with five). All
    twenty sums get the same lane split, so a score does not depend on the slot it was computed in.
    Returns five 4-tuples, one per row."""
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = c0 = c1 = c2 = c3 = e0 = e1 = e2 = e3 = f0 = f1 = f2 = f3 = 0.0
    for d in range(w0.shape[0]):
        x0 = np.float64(r0[d])
        x1 = np.float64(r1[d])
        x2 = np.float64(r2[d])
        x3 = np.float64(r3[d])
        v = w0[d]
        a0 += v * x0
        a1 += v * x1
        a2 += v * x2
        a3 += v * x3
        v = w1[d]
        b0 += v * x0
        b1 += v * x1
        b2 += v * x2
        b3 += v * x3
        v = w2[d]
        c0 += v * x0
        c1 += v * x1
        c2 += v * x2
        c3 += v * x3
        v = w3[d]
        e0 += v * x0
        e1 += v * x1
        e2 += v * x2
        e3 += v * x3
        v = w4[d]
        f0 += v * x0
        f1 += v * x1
        f2 += v * x2
        f3 += v * x3
    return (a0, a1, a2, a3), (b0, b1, b2, b3), (c0, c1, c2, c3), (e0, e1, e2, e3), (f0, f1, f2, f3)


@njit(cache=True, nogil=True)
def rows_scores(W, R, ids, t, S):
    """``S[:, k] = W @ R[ids[k]]`` for ``k < t``: X's examples read in place as rows of ``R`` (X.T of
    an F-ordered X), four examples and five classes per pass; no copy, no transpose. Every score comes
    from the same ``dot20`` slot arithmetic (a short last group repeats its last example, a last group
    of fewer than five classes repeats its last class), so a mini-batch gets bitwise the scores of the
    full pass."""
    C = W.shape[0]
    for k in range(0, t, 4):
        r0 = R[ids[k]]
        r1 = R[ids[min(k + 1, t - 1)]]
        r2 = R[ids[min(k + 2, t - 1)]]
        r3 = R[ids[min(k + 3, t - 1)]]
        n = min(4, t - k)
        for c in range(0, C, 5):
            rows = (c, min(c + 1, C - 1), min(c + 2, C - 1), min(c + 3, C - 1), min(c + 4, C - 1))
            sums = dot20(W[rows[0]], W[rows[1]], W[rows[2]], W[rows[3]], W[rows[4]], r0, r1, r2, r3)
            for q in range(5):
                row = rows[q]
                for e in range(n):
                    S[row, k + e] = sums[q][e]


@njit(cache=True, nogil=True)
def add_rows8(g, a, r0, r1, r2, r3, r4, r5, r6, r7):
    """``g += a[0] r0 + ... + a[7] r7`` (float64 g; rows float32 or float64), added as a fixed tree,
    elementwise: the loop the gradient update spends its time in (it must vectorize, see the module note)."""
    a0, a1, a2, a3, a4, a5, a6, a7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    for d in range(g.shape[0]):
        g[d] += (
            (a0 * np.float64(r0[d]) + a1 * np.float64(r1[d])) + (a2 * np.float64(r2[d]) + a3 * np.float64(r3[d]))
        ) + ((a4 * np.float64(r4[d]) + a5 * np.float64(r5[d])) + (a6 * np.float64(r6[d]) + a7 * np.float64(r7[d])))


@njit(cache=True, nogil=True)
def rows_grad(coef, R, ids, t, G):
    """``G += coef[:, :t] @ R[ids[:t]]`` (float64 G; R float32 or float64 rows), eight examples per
    pass over ``G`` (then four, then one), added as a fixed tree, elementwise along the features (no
    reassociation): each pass reads and writes G once, so fewer passes move less memory."""
    C = coef.shape[0]
    D = R.shape[1]
    t8 = t - t % 8
    for k in range(0, t8, 8):
        i0, i1, i2, i3 = ids[k], ids[k + 1], ids[k + 2], ids[k + 3]
        i4, i5, i6, i7 = ids[k + 4], ids[k + 5], ids[k + 6], ids[k + 7]
        for d0 in range(0, D, GRAD_SPAN):  # the eight rows' span stays in L1 for every class
            d1 = min(D, d0 + GRAD_SPAN)
            # slices indexed from 0 (see the module note: an index running from d0 would not vectorize)
            r0, r1, r2, r3 = R[i0, d0:d1], R[i1, d0:d1], R[i2, d0:d1], R[i3, d0:d1]
            r4, r5, r6, r7 = R[i4, d0:d1], R[i5, d0:d1], R[i6, d0:d1], R[i7, d0:d1]
            for c in range(C):
                add_rows8(G[c, d0:d1], coef[c, k : k + 8], r0, r1, r2, r3, r4, r5, r6, r7)
    t4 = t - t % 4
    for k in range(t8, t4, 4):
        r0 = R[ids[k]]
        r1 = R[ids[k + 1]]
        r2 = R[ids[k + 2]]
        r3 = R[ids[k + 3]]
        for c in range(C):
            a0 = coef[c, k]
            a1 = coef[c, k + 1]
            a2 = coef[c, k + 2]
            a3 = coef[c, k + 3]
            g = G[c]
            for d in range(D):
                g[d] += (a0 * np.float64(r0[d]) + a1 * np.float64(r1[d])) + (
                    a2 * np.float64(r2[d]) + a3 * np.float64(r3[d])
                )
    for k in range(t4, t):
        r0 = R[ids[k]]
        for c in range(C):
            a0 = coef[c, k]
            g = G[c]
            for d in range(D):
                g[d] += a0 * np.float64(r0[d])


@njit(cache=True, nogil=True)
def tile_buffers(Xc, c_order, D):
    """A worker's buffers for :func:`tile_rows`: ``(xr, iota)``, the row tile of a C-ordered X in its dtype
    (empty for an F-ordered X, read in place) and the rows' positions 0..TILE-1."""
    n = TILE if c_order else 0
    return np.empty((n, D), Xc.dtype), np.arange(TILE)


@njit(cache=True, nogil=True)
def tile_loss(svm, W, R, rid, y, ids, t, delta, St, coef):
    """One model on one tile: its scores ``St`` (``rows_scores``), then the summed loss of the tile's
    examples (returned) and their coefficients ``coef`` by the SVM (``svm``) or softmax rule."""
    # a mini-batch's labels are random reads of y, out of cache after the tiles' columns: read first,
    # together, their misses overlapped, not one exposed an example in the rule (the step 1.6-2.7 % faster)
    labels = np.empty(t, y.dtype)
    for k in range(t):
        labels[k] = y[ids[k]]
    rows_scores(W, R, rid, t, St)
    order = np.arange(t)  # labels[order[k]] is example k's
    if svm:
        return svm_tile(St, labels, order, t, delta, coef)
    return softmax_tile(St, labels, order, t, coef)


@njit(cache=True, nogil=True)
def tile_rows(Xc, Xr, c_order, ids, xr, iota):
    """The rows ``(R, rid)`` holding the tile's examples, ``R[rid[k]]`` = column ``ids[k]`` of X: X's
    F-ordered columns in place (``Xr``, ``ids``), or for a C-ordered X the tile gathered and transposed
    into ``xr``, read as ``xr[k]``."""
    if c_order:
        gather_rows(Xc, ids, xr)
        return xr, iota
    return Xr, ids


@njit(cache=True, nogil=True)
def gather_rows(Xc, ids, xr):
    """C-ordered X: ``xr[:t, :] = X[:, ids].T``, transposed straight from X in P x t panels, P features
    being a cache line of X's dtype: the panel's P feature rows of X stay in L1 while the t rows of xr
    get one whole line each (float32 in 8-feature panels wrote each line in two halves, a panel apart:
    the C-order pass 1.08x slower)."""
    # P as a literal at each call, so that the panels' inner loop unrolls (a P computed here did not:
    # 1.25-1.29x slower)
    DP = gather_panels(Xc, ids, xr, 16) if Xc.itemsize == 4 else gather_panels(Xc, ids, xr, 8)
    for k in range(ids.shape[0]):
        i = ids[k]
        dst = xr[k]
        for d in range(DP, Xc.shape[0]):
            dst[d] = Xc[d, i]


@njit(cache=True, nogil=True)
def gather_panels(Xc, ids, xr, P):
    """The whole panels of P features of :func:`gather_rows`; returns the features they cover."""
    DP = Xc.shape[0] - Xc.shape[0] % P
    for d0 in range(0, DP, P):
        for k in range(ids.shape[0]):
            i = ids[k]
            dst = xr[k]
            for dd in range(P):
                dst[d0 + dd] = Xc[d0 + dd, i]
    return DP
