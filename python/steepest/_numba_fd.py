"""Numba kernels for the exact finite differences of every weight (KERNELS.md, ``svm_fd`` /
``softmax_fd``): for weight (c, d) and step e, ``L(W + e E_cd) - L(W)`` as a sum of per-example
changes, for all C*D weights in one pass over X after one pass for the scores.

Perturbing W[c, d] by e moves only score c of example i, by ``z = e * X[d, i]``. The per-example
changes are evaluated for a whole row of weights ``W[c, :]`` at once (vectorized over d, see
``_numba_tiles``), four examples per statement for the SVM.

SVM. With ``m = s_j - s_y + delta`` write ``a = -max(0, m)`` and ``b = min(0, m)``; then
``max(0, m + z) - max(0, m) = max(a, b + z)`` exactly in real arithmetic, and in floating point it
is ``z`` itself (no cancellation) whenever the hinge stays active. The label's own margin is stored
as ``m = -inf`` (a = -0, b = -inf), so its term is 0 with no branch.

Softmax. ``log1p(p * expm1(z)) - [c == y] z`` is the cumulant generating function of a Bernoulli(p)
variable (minus z at the label). For ``|z| <= ZTAYLOR`` it is evaluated as its Taylor series
``sum_n kappa_n z^n / n!`` up to n = 7, with the Bernoulli cumulants written in ``u = p q``,
``v = q - p``, ``q = 1 - p`` (q summed from the other probabilities, so no ``1 - p`` cancellation):
kappa_1 = p (-q at the label), kappa_2 = u, kappa_3 = u v, kappa_4 = u (1 - 6u),
kappa_5 = u v (1 - 12u), kappa_6 = u (1 - 30u + 120u^2), kappa_7 = u v (1 - 60u + 360u^2).
Every term carries the factor p (or q at the label), so the truncation error relative to the result
is below ``17 * ZTAYLOR^7 / 8! < 1e-17``: exact to double precision. An example whose largest
``|e x|`` is above ZTAYLOR falls back to ``np.log1p(p * np.expm1(z))``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._numba_tiles import TILE, fill_rows

#: Examples per block of the finite-difference kernels (each block owns 2-3 (C, D) partials).
FD_BLOCK = 1024
#: Largest |e * x| evaluated by the degree-7 series in ``softmax_fd``.
ZTAYLOR = 1e-2


@njit(cache=True, nogil=True)
def _svm_fd_tile(S, y, ids, t, delta, h, xr, eP, eM, P, M, K, A, Bm, Am, hx):
    C, D = eP.shape
    Cp = A.shape[1]
    # per-example margin constants (padding classes: a = -0, b = -inf, |m| = inf: contribute 0)
    for k in range(t):
        i = ids[k]
        yk = y[i]
        sy = S[yk, i]
        for j in range(Cp):
            if j < C and j != yk:
                m = S[j, i] - sy + delta
                A[k, j] = -max(0.0, m)
                Bm[k, j] = min(0.0, m)
                Am[k, j] = abs(m)
            else:
                A[k, j] = -0.0
                Bm[k, j] = -np.inf
                Am[k, j] = np.inf
        x = xr[k]
        hk = hx[k]
        for d in range(D):
            hk[d] = h * abs(x[d]) if x[d] != 0.0 else -1.0  # x == 0 touches no kink
    # terms (i, c) for c != y_i: hinge of class c moves by +z
    t4 = t - t % 4
    for k in range(0, t4, 4):
        x0 = xr[k]
        x1 = xr[k + 1]
        x2 = xr[k + 2]
        x3 = xr[k + 3]
        h0 = hx[k]
        h1 = hx[k + 1]
        h2 = hx[k + 2]
        h3 = hx[k + 3]
        for c in range(C):
            a0, a1, a2, a3 = A[k, c], A[k + 1, c], A[k + 2, c], A[k + 3, c]
            b0, b1, b2, b3 = Bm[k, c], Bm[k + 1, c], Bm[k + 2, c], Bm[k + 3, c]
            m0, m1, m2, m3 = Am[k, c], Am[k + 1, c], Am[k + 2, c], Am[k + 3, c]
            ep = eP[c]
            em = eM[c]
            p = P[c]
            q = M[c]
            n = K[c]
            for d in range(D):
                e = ep[d]
                f = em[d]
                p[d] += (max(a0, b0 + e * x0[d]) + max(a1, b1 + e * x1[d])) + (
                    max(a2, b2 + e * x2[d]) + max(a3, b3 + e * x3[d]))
                q[d] += (max(a0, b0 - f * x0[d]) + max(a1, b1 - f * x1[d])) + (
                    max(a2, b2 - f * x2[d]) + max(a3, b3 - f * x3[d]))
                n[d] += ((1 if m0 <= h0[d] else 0) + (1 if m1 <= h1[d] else 0)) + (
                    (1 if m2 <= h2[d] else 0) + (1 if m3 <= h3[d] else 0))
    for k in range(t4, t):
        x0 = xr[k]
        h0 = hx[k]
        for c in range(C):
            a0, b0, m0 = A[k, c], Bm[k, c], Am[k, c]
            ep = eP[c]
            em = eM[c]
            p = P[c]
            q = M[c]
            n = K[c]
            for d in range(D):
                p[d] += max(a0, b0 + ep[d] * x0[d])
                q[d] += max(a0, b0 - em[d] * x0[d])
                n[d] += 1 if m0 <= h0[d] else 0
    # terms (i, j), j != y_i, for c == y_i: every margin of the example moves by -z
    for k in range(t):
        g = y[ids[k]]
        x0 = xr[k]
        h0 = hx[k]
        ep = eP[g]
        em = eM[g]
        p = P[g]
        q = M[g]
        n = K[g]
        for j in range(0, Cp, 4):
            a0, a1, a2, a3 = A[k, j], A[k, j + 1], A[k, j + 2], A[k, j + 3]
            b0, b1, b2, b3 = Bm[k, j], Bm[k, j + 1], Bm[k, j + 2], Bm[k, j + 3]
            m0, m1, m2, m3 = Am[k, j], Am[k, j + 1], Am[k, j + 2], Am[k, j + 3]
            for d in range(D):
                zp = ep[d] * x0[d]
                zm = em[d] * x0[d]
                hd = h0[d]
                p[d] += (max(a0, b0 - zp) + max(a1, b1 - zp)) + (max(a2, b2 - zp) + max(a3, b3 - zp))
                q[d] += (max(a0, b0 + zm) + max(a1, b1 + zm)) + (max(a2, b2 + zm) + max(a3, b3 + zm))
                n[d] += ((1 if m0 <= hd else 0) + (1 if m1 <= hd else 0)) + (
                    (1 if m2 <= hd else 0) + (1 if m3 <= hd else 0))


@njit(cache=True, nogil=True, parallel=True)
def svm_fd_blocks(S, Xc, Xr, c_order, y, delta, h, eP, eM):
    """Per-block sums of the SVM per-example changes: (plus, minus, kinks), each (nb, C, D)."""
    C, D = eP.shape
    N = y.shape[0]
    nb = (N + FD_BLOCK - 1) // FD_BLOCK
    Cp = (C + 3) // 4 * 4
    P = np.zeros((nb, C, D))
    M = np.zeros((nb, C, D))
    K = np.zeros((nb, C, D), dtype=np.int64)
    for b in prange(nb):
        xr = np.empty((TILE, D))
        hx = np.empty((TILE, D))
        A = np.empty((TILE, Cp))
        Bm = np.empty((TILE, Cp))
        Am = np.empty((TILE, Cp))
        ids = np.empty(TILE, dtype=np.int64)
        b1 = min(N, (b + 1) * FD_BLOCK)
        for i0 in range(b * FD_BLOCK, b1, TILE):
            t = min(TILE, b1 - i0)
            for k in range(t):
                ids[k] = i0 + k
            fill_rows(Xc, Xr, c_order, ids[:t], xr)
            _svm_fd_tile(S, y, ids, t, delta, h, xr, eP, eM, P[b], M[b], K[b], A, Bm, Am, hx)
    return P, M, K


@njit(cache=True, nogil=True)
def _softmax_coefs(S, i, yi, out):
    """Taylor coefficients ``out[c, n-1] = kappa_n / n!`` (n = 1..7) of the change of example i's
    loss when score c moves by z (see the module docstring)."""
    C = S.shape[0]
    smax = S[0, i]
    for j in range(1, C):
        smax = max(smax, S[j, i])
    p = np.empty(C)
    z = 0.0
    for j in range(C):
        p[j] = np.exp(S[j, i] - smax)
        z += p[j]
    for j in range(C):
        p[j] /= z
    for c in range(C):
        q = 0.0
        for j in range(C):
            if j != c:
                q += p[j]
        pc = p[c]
        u = pc * q
        v = q - pc
        out[c, 0] = -q if c == yi else pc
        out[c, 1] = u / 2.0
        out[c, 2] = u * v / 6.0
        out[c, 3] = u * (1.0 - 6.0 * u) / 24.0
        out[c, 4] = u * v * (1.0 - 12.0 * u) / 120.0
        out[c, 5] = u * (1.0 - 30.0 * u + 120.0 * u * u) / 720.0
        out[c, 6] = u * v * (1.0 - 60.0 * u + 360.0 * u * u) / 5040.0
        out[c, 7] = pc  # kept for the library fallback
    return p


@njit(cache=True, nogil=True)
def _softmax_fd_tile(S, y, ids, t, xr, eP, eM, emax, P, M, cf):
    C, D = eP.shape
    for k in range(t):
        i = ids[k]
        yi = y[i]
        _softmax_coefs(S, i, yi, cf)
        x = xr[k]
        xmax = 0.0
        for d in range(D):
            xmax = max(xmax, abs(x[d]))
        if emax * xmax <= ZTAYLOR:
            for c in range(C):
                k1, k2, k3, k4 = cf[c, 0], cf[c, 1], cf[c, 2], cf[c, 3]
                k5, k6, k7 = cf[c, 4], cf[c, 5], cf[c, 6]
                ep = eP[c]
                em = eM[c]
                p = P[c]
                q = M[c]
                for d in range(D):
                    z = ep[d] * x[d]
                    p[d] += z * (k1 + z * (k2 + z * (k3 + z * (k4 + z * (k5 + z * (k6 + z * k7))))))
                    z = -(em[d] * x[d])
                    q[d] += z * (k1 + z * (k2 + z * (k3 + z * (k4 + z * (k5 + z * (k6 + z * k7))))))
        else:
            for c in range(C):
                pc = cf[c, 7]
                own = 1.0 if c == yi else 0.0
                for d in range(D):
                    z = eP[c, d] * x[d]
                    P[c, d] += np.log1p(pc * np.expm1(z)) - own * z
                    z = -(eM[c, d] * x[d])
                    M[c, d] += np.log1p(pc * np.expm1(z)) - own * z


@njit(cache=True, nogil=True, parallel=True)
def softmax_fd_blocks(S, Xc, Xr, c_order, y, eP, eM, emax):
    """Per-block sums of the softmax per-example changes: (plus, minus), each (nb, C, D)."""
    C, D = eP.shape
    N = y.shape[0]
    nb = (N + FD_BLOCK - 1) // FD_BLOCK
    P = np.zeros((nb, C, D))
    M = np.zeros((nb, C, D))
    for b in prange(nb):
        xr = np.empty((TILE, D))
        cf = np.empty((C, 8))
        ids = np.empty(TILE, dtype=np.int64)
        b1 = min(N, (b + 1) * FD_BLOCK)
        for i0 in range(b * FD_BLOCK, b1, TILE):
            t = min(TILE, b1 - i0)
            for k in range(t):
                ids[k] = i0 + k
            fill_rows(Xc, Xr, c_order, ids[:t], xr)
            _softmax_fd_tile(S, y, ids, t, xr, eP, eM, emax, P[b], M[b], cf)
    return P, M
