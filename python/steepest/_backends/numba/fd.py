"""Numba kernels for the exact finite differences of every weight (``contract.Kernels.svm_fd`` /
``softmax_fd``): for weight (c, d) and step e, ``L(W + e E_cd) - L(W)`` as a sum of per-example
changes, for all C*D weights in ONE pass over X (the same algorithm as the C++
``finite_differences.hpp``).

Perturbing W[c, d] by e moves only score c of example i, by ``z = e * X[d, i]``.

SVM. Every hinge term is linear in e except where it crosses its kink, so
``sum_i Delta_i(e) = e * G[c, d] + (corrections of the few terms within |e x| of their kink)``,
with ``G = sum_i coef_i x_i^T`` the (un-normalized) SVM gradient from the same pass (scores, then
``coef``, then ``G += coef @ x``, as in the loss kernel). A term with margin ``m`` moved by ``t``
needs a correction only if ``|t| >= |m|``, and counts as a kink only if ``|m| <= h |x|``: both need
``|m| <= max(|e|, h) * max|x|``, checked per term from the example's ``max|x|``. Such terms are
corrected exactly, feature by feature, with ``max(min(m, 0) + t, -max(m, 0)) - [m > 0] t`` (the
exact ``max(0, m + t) - max(0, m)`` without its cancellation, minus the linear part already in G),
and give the kink counts. Corrections go to per-block arrays that are zeroed (touched at all) only
by the blocks that have such a term.

Softmax. ``Delta_i(e) = K_ci(e x) - [c == y_i] e x`` with ``K(u) = log1p(p expm1(u))`` the
cumulant generating function of a Bernoulli(p): ``K(u) = sum_n kappa_n u^n / n!``, so
``sum_i Delta_i(e) = sum_n e^n G_n[c, d]`` with the moment sums
``G_n[c, d] = sum_i (kappa_n(p_ci) - [n == 1][c == y_i]) / n! * x_di^n``. The cumulants up to
n = 7 are written in ``u = p q``, ``v = q - p``, ``q = 1 - p`` (q summed from the other
probabilities, no ``1 - p`` cancellation): kappa_1 = p (-q at the label), kappa_2 = u,
kappa_3 = u v, kappa_4 = u (1 - 6u), kappa_5 = u v (1 - 12u), kappa_6 = u (1 - 30u + 120u^2),
kappa_7 = u v (1 - 60u + 360u^2). Per tile, the series is truncated at the first n where the
remainder is below ``2^-55 |u|`` for ``|u| <= max|e| * max|x|`` (``moment_terms``, as in the C++);
a tile that would need more than 7 terms is evaluated term by term with ``np.log1p`` /
``np.expm1`` instead. A block's moment sums only grow to the number of terms its tiles need.

Determinism: fixed blocks of FD_BLOCK examples (independent of the thread count), one set of
partials per block, summed in block order by the wrappers in ``kernels``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .calls import entry
from .tiles import TILE, rows_grad, rows_scores, svm_tile, tile_buffers, tile_rows

#: Examples per block of the finite-difference kernels (each block owns its (C, D) partials).
FD_BLOCK = 1024
#: Most moment sums of the softmax series (kappa_1 .. kappa_7); tiles needing more use the library.
KMAX = 7


@njit(cache=True, nogil=True)
def moment_terms(u_max):
    """Terms of the cumulant series so that the remainder is below ``2^-55 |u|`` for
    ``|u| <= u_max`` (``|kappa_n / n!| <= M / rho^n`` on ``|u| = rho < pi``; rho = 2.5 keeps M about
    1); 0 when more than KMAX terms would be needed."""
    r = u_max / 2.5
    if r == 0.0:
        return 1
    rk = r
    for k in range(1, KMAX + 1):
        if rk <= 2.0**-55:
            return k
        rk *= r
    return 0


@njit(cache=True, nogil=True)
def _absmax(x):
    m = 0.0
    for d in range(x.shape[0]):
        a = abs(x[d])
        m = a if a > m else m
    return m


@njit(cache=True, nogil=True)
def _count_ge(x, thr):
    """How many ``|x[d]| >= thr`` (an integer sum: vectorizes with no reassociation flag)."""
    n = 0
    for d in range(x.shape[0]):
        n += 1 if abs(x[d]) >= thr else 0
    return n


@njit(cache=True, nogil=True)
def _tile_pass(W, Xc, Xr, c_order, ids, t, xr, iota, St):
    """Scores ``St[:, :t]`` of the examples ``ids``; returns the rows (R, rid) to read them from:
    ``R[rid[k]]`` is example k's column of X (the gathered tile, or X's F-ordered columns in place)."""
    R, rid = tile_rows(Xc, Xr, c_order, ids, xr, iota)
    rows_scores(W, R, rid, t, St)
    return R, rid


@njit(cache=True, nogil=True)
def _svm_term(m, j, yi, x, h, eP, eM, P, M, K):
    """Exact corrections (minus the linear part in G) and kink counts of the hinge term with margin
    m of example column x: weights (j, d) move it by +e x, weights (yi, d) by -e x."""
    D = x.shape[0]
    neg_pos = -(m if m > 0.0 else 0.0)
    neg_part = m if m < 0.0 else 0.0
    on = 1.0 if m > 0.0 else 0.0
    am = abs(m)
    epj, emj, epy, emy = eP[j], eM[j], eP[yi], eM[yi]
    pj, mj, py, my = P[j], M[j], P[yi], M[yi]
    kj, ky = K[j], K[yi]
    for d in range(D):
        xd = x[d]
        if xd == 0.0:
            continue
        t = epj[d] * xd
        v = neg_part + t
        pj[d] += (v if v > neg_pos else neg_pos) - on * t
        t = -emj[d] * xd
        v = neg_part + t
        mj[d] += (v if v > neg_pos else neg_pos) - on * t
        t = -(epy[d] * xd)
        v = neg_part + t
        py[d] += (v if v > neg_pos else neg_pos) - on * t
        t = emy[d] * xd
        v = neg_part + t
        my[d] += (v if v > neg_pos else neg_pos) - on * t
        if am <= h * abs(xd):
            kj[d] += 1
            ky[d] += 1


def fd_outputs(nb, C, D, svm):
    """The per-block outputs of ``svm_fd_blocks`` (G, P, M, K, used) or ``softmax_fd_blocks`` (Gm, terms, DP,
    DM, used) for ``nb`` blocks, allocated by the caller: a kernel that returned them would box arrays, which
    runs Python code inside Numba's wrapper (see ``kernels._run``)."""
    used = np.zeros(nb, dtype=np.bool_)
    if svm:
        return np.zeros((nb, C, D)), np.empty((nb, C, D)), np.empty((nb, C, D)), np.empty((nb, C, D), np.int64), used
    return np.empty((nb, KMAX, C, D)), np.zeros(nb, dtype=np.int64), np.empty((nb, C, D)), np.empty((nb, C, D)), used


@entry
@njit(cache=True, nogil=True, parallel=True)
def svm_fd_blocks(lo, hi, s0, s1, W, Xc, Xr, c_order, y, delta, h, reach, eP, eM, G, P, M, K, used):
    """For the examples ``s0 .. s1`` of each block ``lo <= b < hi``: SVM gradient sums G[b] (C, D) (zeroed by
    the caller), corrections P[b], M[b] and kink counts K[b] (int64), and ``used[b]`` (False from the caller):
    P[b], M[b], K[b] are only valid (zeroed, then summed) where ``used[b]``; elsewhere they are untouched
    memory. The spans of a block, taken in order, sum as one pass over it."""
    C, D = W.shape
    N = y.shape[0]
    for b in prange(lo, hi):
        xr, iota = tile_buffers(Xc, c_order, D)
        ids_all = np.arange(b * FD_BLOCK + s0, min(N, b * FD_BLOCK + s1))
        St = np.empty((C, TILE))
        coef = np.empty((C, TILE))
        Pb, Mb, Kb = P[b], M[b], K[b]
        for i0 in range(0, ids_all.shape[0], TILE):
            t = min(TILE, ids_all.shape[0] - i0)
            ids = ids_all[i0 : i0 + t]
            R, rid = _tile_pass(W, Xc, Xr, c_order, ids, t, xr, iota, St)
            svm_tile(St, y, ids, t, delta, coef)
            rows_grad(coef, R, rid, t, G[b])
            for k in range(t):
                x = R[rid[k]]
                yk = y[ids[k]]
                sy = St[yk, k]
                # cheap screen first: the smallest |m| of the example against the |x| it needs
                # (an integer count, which vectorizes; an exact max |x| only if it passes)
                mmin = np.inf
                for j in range(C):
                    if j != yk:
                        mmin = min(mmin, abs(St[j, k] - sy + delta))
                if _count_ge(x, (mmin / reach) * (1.0 - 1e-9)) == 0:  # margin for rounding
                    continue
                limit = reach * _absmax(x)
                for j in range(C):
                    if j == yk:
                        continue
                    m = St[j, k] - sy + delta  # exactly svm_tile's margin
                    if not (abs(m) <= limit):
                        continue
                    if not used[b]:
                        Pb[:, :] = 0.0
                        Mb[:, :] = 0.0
                        Kb[:, :] = 0
                        used[b] = True
                    _svm_term(m, j, yk, x, h, eP, eM, Pb, Mb, Kb)


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


#: Features per chunk of ``_moments_tile``: the chunk's moment sums (<= KMAX * C * FD_CHUNK float64)
#: and the tile's powers stay in L1/L2 while all the tile's examples are added to them.
FD_CHUNK = 128


@njit(cache=True, nogil=True)
def _tile_powers(pw, R, rid, k, m, nt, d0, d1):
    """``pw[n, j, :] = R[rid[k + j], d0:d1]^(n+1)`` for the m examples k .. k + m - 1 and n < nt."""
    L = d1 - d0
    for j in range(m):
        x = R[rid[k + j], d0:d1]
        q = pw[0, j]
        for d in range(L):
            q[d] = x[d]
        for n in range(1, nt):
            a = pw[n - 1, j]
            o = pw[n, j]
            for d in range(L):
                o[d] = a[d] * x[d]


@njit(cache=True, nogil=True)
def _moments_tile(Gm, nt, mc, R, rid, t, pw):
    """``Gm[n, c, :] += sum_k mc[k, c, n] * R[rid[k]]^(n+1)`` for n < nt over the tile's t examples,
    feature chunk by feature chunk (the chunk's sums stay in cache for the whole tile instead of
    streaming all of Gm once per four examples). Per feature, the examples are added in tile order,
    four per sum (elementwise along the features: no reassociation), so the rounding does not
    depend on the chunk size. Eight examples share one load and store of the sums: ``(g + s_1) + s_2``
    rounds as two statements of four."""
    C = Gm.shape[1]
    D = Gm.shape[2]
    t8 = t - t % 8
    t4 = t - t % 4
    for d0 in range(0, D, FD_CHUNK):
        d1 = min(D, d0 + FD_CHUNK)
        L = d1 - d0
        for k in range(0, t8, 8):
            _tile_powers(pw, R, rid, k, 8, nt, d0, d1)
            for n in range(nt):
                p0, p1, p2, p3 = pw[n, 0], pw[n, 1], pw[n, 2], pw[n, 3]
                p4, p5, p6, p7 = pw[n, 4], pw[n, 5], pw[n, 6], pw[n, 7]
                for c in range(C):
                    a0, a1, a2, a3 = mc[k, c, n], mc[k + 1, c, n], mc[k + 2, c, n], mc[k + 3, c, n]
                    a4, a5, a6, a7 = mc[k + 4, c, n], mc[k + 5, c, n], mc[k + 6, c, n], mc[k + 7, c, n]
                    g = Gm[n, c, d0:d1]
                    for d in range(L):
                        g[d] = (g[d] + ((a0 * p0[d] + a1 * p1[d]) + (a2 * p2[d] + a3 * p3[d]))) + (
                            (a4 * p4[d] + a5 * p5[d]) + (a6 * p6[d] + a7 * p7[d])
                        )
        for k in range(t8, t4, 4):
            _tile_powers(pw, R, rid, k, 4, nt, d0, d1)
            for n in range(nt):
                p0, p1, p2, p3 = pw[n, 0], pw[n, 1], pw[n, 2], pw[n, 3]
                for c in range(C):
                    a0, a1, a2, a3 = mc[k, c, n], mc[k + 1, c, n], mc[k + 2, c, n], mc[k + 3, c, n]
                    g = Gm[n, c, d0:d1]
                    for d in range(L):
                        g[d] += (a0 * p0[d] + a1 * p1[d]) + (a2 * p2[d] + a3 * p3[d])
        for k in range(t4, t):
            _tile_powers(pw, R, rid, k, 1, nt, d0, d1)
            for n in range(nt):
                p = pw[n, 0]
                for c in range(C):
                    a0 = mc[k, c, n]
                    g = Gm[n, c, d0:d1]
                    for d in range(L):
                        g[d] += a0 * p[d]


@entry
@njit(cache=True, nogil=True, parallel=True)
def softmax_fd_blocks(lo, hi, s0, s1, W, Xc, Xr, c_order, y, emax, eP, eM, Gm, terms, DP, DM, used):
    """For the examples ``s0 .. s1`` of each block ``lo <= b < hi``: moment sums Gm[b] (KMAX, C, D) (rows
    n < terms[b] valid; ``terms`` zeroed by the caller), and term-by-term sums DP[b], DM[b] (C, D) of the tiles
    too large for the series (valid where ``used[b]``, False from the caller); untouched memory elsewhere.
    The spans of a block, taken in order, sum as one pass over it."""
    C, D = W.shape
    N = y.shape[0]
    for b in prange(lo, hi):
        xr, iota = tile_buffers(Xc, c_order, D)
        ids_all = np.arange(b * FD_BLOCK + s0, min(N, b * FD_BLOCK + s1))
        St = np.empty((C, TILE))
        mc = np.empty((TILE, C, 8))
        pw = np.empty((KMAX, 8, FD_CHUNK))
        Gb, DPb, DMb = Gm[b], DP[b], DM[b]
        for i0 in range(0, ids_all.shape[0], TILE):
            t = min(TILE, ids_all.shape[0] - i0)
            ids = ids_all[i0 : i0 + t]
            R, rid = _tile_pass(W, Xc, Xr, c_order, ids, t, xr, iota, St)
            tile_max = 0.0
            for k in range(t):
                tile_max = max(tile_max, _absmax(R[rid[k]]))
                _softmax_coefs(St, k, y[ids[k]], mc[k])
            nt = moment_terms(emax * tile_max)
            if nt == 0:  # |e x| too large for the series: term by term
                if not used[b]:
                    DPb[:, :] = 0.0
                    DMb[:, :] = 0.0
                    used[b] = True
                for k in range(t):
                    x = R[rid[k]]
                    yk = y[ids[k]]
                    for c in range(C):
                        pc = mc[k, c, 7]
                        lab = 1.0 if c == yk else 0.0
                        ep = eP[c]
                        em = eM[c]
                        dp = DPb[c]
                        dm = DMb[c]
                        for d in range(D):
                            up = ep[d] * x[d]
                            um = -em[d] * x[d]
                            dp[d] += np.log1p(pc * np.expm1(up)) - lab * up
                            dm[d] += np.log1p(pc * np.expm1(um)) - lab * um
                continue
            while terms[b] < nt:  # grow the moment sums (new powers start at zero)
                Gb[terms[b]] = 0.0
                terms[b] += 1
            _moments_tile(Gb, nt, mc, R, rid, t, pw)
