// Per-block kernels of the loss on a grid of score matrices (svm_grid, softmax_grid), compiled
// once per instruction-set level. The driver (grid_losses.hpp) cuts the examples into blocks and
// sums the per-block results in block order.
#pragma once

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

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
