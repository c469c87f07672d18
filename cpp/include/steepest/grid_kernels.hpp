// Per-block kernels of the loss on a grid of score matrices (svm_grid, softmax_grid), compiled
// once per instruction-set level. The driver (grid_losses.hpp) cuts the examples into blocks and
// sums the per-block results in block order.
#pragma once

#include <algorithm>
#include <cmath>

#include "steepest/kernel_table.hpp"
#include "steepest/simd.hpp"

namespace steepest {
namespace STEEPEST_ISA_NS {

constexpr int kBetaGroup = 4;

// A[c * nb + i] = M0[c * ld + i] + alpha * M1[c * ld + i]
inline void line_combine(const double* M0, const double* M1, i64 C, i64 nb, i64 ld, double alpha, double* A) {
    const vd va = vset1(alpha);
    for (i64 c = 0; c < C; ++c) {
        const double* m0 = M0 + c * ld;
        const double* m1 = M1 + c * ld;
        double* a = A + c * nb;
        i64 i = 0;
        for (; i + kLanes <= nb; i += kLanes) vstore(a + i, vfmadd(va, vload(m1 + i), vload(m0 + i)));
        for (; i < nb; ++i) a[i] = sfmadd(alpha, m1[i], m0[i]);
    }
}

inline double relu(double m) { return m < 0.0 ? 0.0 : m; }  // NaN stays NaN

// out[a * nbeta + b] += sum_{c,i} max(0, M0 + alphas[a] M1 + betas[b] M2). scratch: C * nb doubles.
inline void svm_points(const double* M0, const double* M1, const double* M2, i64 C, i64 nb, i64 ld,
                       const double* alphas, i64 na, const double* betas, i64 nbeta, double* out,
                       double* scratch) {
    const vd zero = vzero();
    for (i64 ia = 0; ia < na; ++ia) {
        line_combine(M0, M1, C, nb, ld, alphas[ia], scratch);
        if (M2 == nullptr) {
            vd acc = vzero();
            double tail = 0.0;
            for (i64 c = 0; c < C; ++c) {
                const double* a = scratch + c * nb;
                i64 i = 0;
                for (; i + kLanes <= nb; i += kLanes) acc = vadd(acc, vmax(zero, vload(a + i)));
                for (; i < nb; ++i) tail += relu(a[i]);
            }
            out[ia * nbeta] += vhsum(acc) + tail;
            continue;
        }
        i64 ib = 0;
        for (; ib + kBetaGroup <= nbeta; ib += kBetaGroup) {
            vd acc[kBetaGroup], vb[kBetaGroup];
            double tail[kBetaGroup];
            for (int q = 0; q < kBetaGroup; ++q) {
                acc[q] = vzero();
                vb[q] = vset1(betas[ib + q]);
                tail[q] = 0.0;
            }
            for (i64 c = 0; c < C; ++c) {
                const double* a = scratch + c * nb;
                const double* m2 = M2 + c * ld;
                i64 i = 0;
                for (; i + kLanes <= nb; i += kLanes) {
                    vd av = vload(a + i), v2 = vload(m2 + i);
#pragma GCC unroll 4
                    for (int q = 0; q < kBetaGroup; ++q) acc[q] = vadd(acc[q], vmax(zero, vfmadd(vb[q], v2, av)));
                }
                for (; i < nb; ++i)
                    for (int q = 0; q < kBetaGroup; ++q) tail[q] += relu(sfmadd(betas[ib + q], m2[i], a[i]));
            }
            for (int q = 0; q < kBetaGroup; ++q) out[ia * nbeta + ib + q] += vhsum(acc[q]) + tail[q];
        }
        for (; ib < nbeta; ++ib) {
            vd acc = vzero(), vb = vset1(betas[ib]);
            double tail = 0.0;
            for (i64 c = 0; c < C; ++c) {
                const double* a = scratch + c * nb;
                const double* m2 = M2 + c * ld;
                i64 i = 0;
                for (; i + kLanes <= nb; i += kLanes) acc = vadd(acc, vmax(zero, vfmadd(vb, vload(m2 + i), vload(a + i))));
                for (; i < nb; ++i) tail += relu(sfmadd(betas[ib], m2[i], a[i]));
            }
            out[ia * nbeta + ib] += vhsum(acc) + tail;
        }
    }
}

// out[a * nbeta + b] += sum_i (logsumexp_c s_ci - t_i), s = S0 + alphas[a] S1 + betas[b] S2 and
// t = T0 + alphas[a] T1 + betas[b] T2 (the label scores). scratch: (C + 1) * nb doubles.
inline void softmax_points(const double* S0, const double* S1, const double* S2, const double* T0,
                           const double* T1, const double* T2, i64 C, i64 nb, i64 ld, const double* alphas,
                           i64 na, const double* betas, i64 nbeta, double* out, double* scratch) {
    double* A = scratch;
    double* TA = scratch + C * nb;
    for (i64 ia = 0; ia < na; ++ia) {
        const double alpha = alphas[ia];
        line_combine(S0, S1, C, nb, ld, alpha, A);
        for (i64 i = 0; i < nb; ++i) TA[i] = sfmadd(alpha, T1[i], T0[i]);
        for (i64 ib = 0; ib < nbeta; ++ib) {
            const double beta = S2 ? betas[ib] : 0.0;
            const vd vb = vset1(beta);
            // Two example vectors per step: independent exp/log chains keep the FMA units busy.
            constexpr int U = 2;
            vd acc[U] = {vzero(), vzero()};
            i64 i = 0;
            for (; i + U * kLanes <= nb; i += U * kLanes) {
                vd mx[U], sum[U];
                for (int u = 0; u < U; ++u) mx[u] = vset1(-INFINITY), sum[u] = vzero();
                for (i64 c = 0; c < C; ++c)
                    for (int u = 0; u < U; ++u) {
                        const i64 j = i + u * kLanes;
                        vd s = S2 ? vfmadd(vb, vload(S2 + c * ld + j), vload(A + c * nb + j)) : vload(A + c * nb + j);
                        mx[u] = vmax(mx[u], s);
                    }
                for (i64 c = 0; c < C; ++c)
                    for (int u = 0; u < U; ++u) {
                        const i64 j = i + u * kLanes;
                        vd s = S2 ? vfmadd(vb, vload(S2 + c * ld + j), vload(A + c * nb + j)) : vload(A + c * nb + j);
                        sum[u] = vadd(sum[u], vexp(vsub(s, mx[u])));
                    }
                for (int u = 0; u < U; ++u) {
                    const i64 j = i + u * kLanes;
                    vd t = S2 ? vfmadd(vb, vload(T2 + j), vload(TA + j)) : vload(TA + j);
                    acc[u] = vadd(acc[u], vadd(vsub(mx[u], t), vlog(sum[u])));
                }
            }
            double total = vhsum(vadd(acc[0], acc[1]));
            for (; i < nb; ++i) {
                double mx = -INFINITY;
                for (i64 c = 0; c < C; ++c) {
                    double s = S2 ? sfmadd(beta, S2[c * ld + i], A[c * nb + i]) : A[c * nb + i];
                    mx = s > mx ? s : mx;
                }
                double sum = 0.0;
                for (i64 c = 0; c < C; ++c) {
                    double s = S2 ? sfmadd(beta, S2[c * ld + i], A[c * nb + i]) : A[c * nb + i];
                    sum += std::exp(s - mx);
                }
                double t = S2 ? sfmadd(beta, T2[i], TA[i]) : TA[i];
                total += (mx - t) + std::log(sum);
            }
            out[ia * nbeta + ib] += total;
        }
    }
}

// The softmax plane in separable form. With the label's score as reference (D = S - S_label, so the
// label's rows are 0), the exponent of class c at (a, b) is u_c(a) + v_c(b), u = D0 + a D1, v = b D2:
//   sum_c exp(u_c + v_c) = exp(mu + nu) * sigma,   sigma = sum_c P_c Q_c,   P = exp(u - mu), Q = exp(v - nu),
// mu, nu the maxima over the classes (>= 0). P is formed once per alpha and Q once per beta, so a
// point costs C multiply-adds per example instead of C exps; and since sum_i log sigma_i =
// log prod_i sigma_i, one log serves the kPlaneCols / kLanes <= 32 examples of a lane (each sigma is
// in [kPlaneMinSum, C], so for C < 2^31, the driver's condition, the product stays normal). Where a sigma falls below
// kPlaneMinSum (u and v peak on different classes, far apart: the product form would lose bits to
// cancellation) or the result is not finite, the point is recomputed directly for those examples.
constexpr double kPlaneMinSum = 0x1p-30;
constexpr i64 kPlaneAlphaGroup = 4;
constexpr int kPlaneUnroll = 4;  // vectors in flight (kPlaneCols is a multiple of 4 * 8 columns)
static_assert(kPlaneUnroll == 4, "the chains are combined two by two below");
alignas(64) constexpr double kLaneIndex[8] = {0, 1, 2, 3, 4, 5, 6, 7};

// E[c * w + i] = exp(x_c - m), E[C * w + i] = m = max(0, max_c x_c), x = D0 + t D1 (D0 == nullptr:
// x = t D1), for the w (a multiple of kLanes) columns of D0, D1 (row stride ld).
inline void shifted_exps(const double* D0, const double* D1, i64 ld, double t, i64 C, i64 w, double* E) {
    const vd vt = vset1(t);
    for (i64 i = 0; i < w; i += kLanes) {
        vd mx = vzero();
        for (i64 c = 0; c < C; ++c) {
            const vd x = D0 ? vfmadd(vt, vload(D1 + c * ld + i), vload(D0 + c * ld + i)) : vmul(vt, vload(D1 + c * ld + i));
            vstore(E + c * w + i, x);
            mx = vmax(mx, x);  // NaN x gives NaN
        }
        for (i64 c = 0; c < C; ++c) vstore(E + c * w + i, vexp(vsub(vload(E + c * w + i), mx)));
        vstore(E + C * w + i, mx);
    }
}

// x where lane i + k is one of the nb real examples, pad elsewhere.
inline vd real_lanes(vd x, i64 i, i64 nb, vd pad) {
    return i + kLanes <= nb ? x : vselect_gt(vset1(double(nb - i)), vload(kLaneIndex), x, pad);
}

// sum_i log(sum_c exp(D0 + alpha D1 + beta D2)) over the real ones of the w columns, the plain way.
inline double plane_point_direct(const double* D0, const double* D1, const double* D2, i64 C, i64 nb, i64 ld,
                                 i64 w, double alpha, double beta) {
    const vd va = vset1(alpha), vb = vset1(beta);
    vd acc = vzero();
    for (i64 i = 0; i < w; i += kLanes) {
        vd mx = vzero();
        for (i64 c = 0; c < C; ++c)
            mx = vmax(mx, vfmadd(vb, vload(D2 + c * ld + i), vfmadd(va, vload(D1 + c * ld + i), vload(D0 + c * ld + i))));
        vd sum = vzero();
        for (i64 c = 0; c < C; ++c) {
            const vd x = vfmadd(vb, vload(D2 + c * ld + i), vfmadd(va, vload(D1 + c * ld + i), vload(D0 + c * ld + i)));
            sum = vadd(sum, vexp(vsub(x, mx)));
        }
        acc = vadd(acc, real_lanes(vadd(mx, vlog(sum)), i, nb, vzero()));
    }
    return vhsum(acc);
}

// out[a * ldo + b] += sum_i log(sum_c exp(D0 + alphas[a] D1 + betas[b] D2)[c, i]): the softmax data loss
// of the nb examples at each point. D0, D1, D2 (C, ld), zero-padded from nb to ld columns (ld a
// multiple of kPlaneCols). scratch: (na + nbeta) * (C + 1) * kPlaneCols doubles.
inline void softmax_plane_points(const double* D0, const double* D1, const double* D2, i64 C, i64 nb, i64 ld,
                                 const double* alphas, i64 na, const double* betas, i64 nbeta, double* out, i64 ldo,
                                 double* scratch) {
    const vd one = vset1(1.0);
    for (i64 j = 0; j < ld; j += kPlaneCols) {
        const i64 w = kPlaneCols, rows = (C + 1) * w, nbj = nb - j;
        double* P = scratch;
        double* Q = scratch + na * rows;
        for (i64 ia = 0; ia < na; ++ia) shifted_exps(D0 + j, D1 + j, ld, alphas[ia], C, w, P + ia * rows);
        for (i64 ib = 0; ib < nbeta; ++ib) shifted_exps(nullptr, D2 + j, ld, betas[ib], C, w, Q + ib * rows);
        for (i64 ga = 0; ga < na; ga += kPlaneAlphaGroup)  // a group's P stays in L1 while each Q passes
        for (i64 ib = 0; ib < nbeta; ++ib) {
            const double* Qb = Q + ib * rows;
            for (i64 ia = ga; ia < std::min(na, ga + kPlaneAlphaGroup); ++ia) {
                const double* Pa = P + ia * rows;
                vd shift[kPlaneUnroll], prod[kPlaneUnroll], low[kPlaneUnroll];  // one chain per vector in flight
                for (int u = 0; u < kPlaneUnroll; ++u) shift[u] = vzero(), prod[u] = one, low[u] = vset1(INFINITY);
                for (i64 i = 0; i < w; i += kPlaneUnroll * kLanes) {
                    vd sum[kPlaneUnroll];
                    for (int u = 0; u < kPlaneUnroll; ++u) sum[u] = vmul(vload(Pa + i + u * kLanes), vload(Qb + i + u * kLanes));
                    for (i64 c = 1; c < C; ++c)
                        for (int u = 0; u < kPlaneUnroll; ++u)
                            sum[u] = vfmadd(vload(Pa + c * w + i + u * kLanes), vload(Qb + c * w + i + u * kLanes), sum[u]);
                    for (int u = 0; u < kPlaneUnroll; ++u) {
                        const vd s = real_lanes(sum[u], i + u * kLanes, nbj, one);
                        low[u] = vmin(low[u], s);
                        prod[u] = vmul(prod[u], s);
                        shift[u] = vadd(shift[u], vadd(vload(Pa + C * w + i + u * kLanes), vload(Qb + C * w + i + u * kLanes)));  // 0 on pads
                    }
                }
                const vd shifts = vadd(vadd(shift[0], shift[1]), vadd(shift[2], shift[3]));
                const vd prods = vmul(vmul(prod[0], prod[1]), vmul(prod[2], prod[3]));
                alignas(64) double lanes[kLanes];
                vstore(lanes, vmin(vmin(low[0], low[1]), vmin(low[2], low[3])));
                double lowest = lanes[0];
                for (int k = 1; k < kLanes; ++k) lowest = lanes[k] < lowest ? lanes[k] : lowest;
                double total = vhsum(vadd(shifts, vlog(prods)));
                if (!(lowest >= kPlaneMinSum) || !std::isfinite(total))
                    total = plane_point_direct(D0 + j, D1 + j, D2 + j, C, nbj, ld, w, alphas[ia], betas[ib]);
                out[ia * ldo + ib] += total;
            }
        }
    }
}

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
