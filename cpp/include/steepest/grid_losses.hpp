// The data loss on a grid of score matrices S = S0 + a S1 + b S2 (lines and planes of the loss
// landscape, random search): O(C B) per grid point, no pass over X. Examples are cut into fixed
// blocks; each block adds its share of every grid point into its own row of partial sums, and the
// rows are combined in block order (bitwise identical for any thread count).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "steepest/blocking.hpp"
#include "steepest/kernel_table.hpp"
#include "steepest/scratch.hpp"

namespace steepest {

constexpr i64 kGridBlock = 1024;  // examples per partial-sum row (and per pool block)
constexpr i64 kGridSub = 128;     // examples per cache-resident sub-block

// fill(i0, i1, a0, a1, b0, b1, acc) adds examples [i0, i1) to the points (a, b), a in [a0, a1),
// b in [b0, b1), of the partial row acc (indexed a * nbeta + b). Pool tasks are (example block,
// range of points) pairs small enough to stop quickly on Ctrl-C; a point's per-block sum does not
// depend on which task computed it.
constexpr i64 kGridTaskWork = i64(1) << 22;  // class-example-point triples per task

template <class Fill>
void grid_driver(i64 B, i64 C, i64 na, i64 nbeta, double* out, int n_threads, const StopFn& stop, Fill&& fill,
                 i64 kTaskWork = kGridTaskWork) {
    const i64 nblocks = (B + kGridBlock - 1) / kGridBlock, npoints = na * nbeta;
    const i64 per_point = std::max<i64>(1, C * std::min(B, kGridBlock));
    const i64 points = std::max<i64>(1, kTaskWork / per_point);
    const i64 bstep = std::min(nbeta, points), astep = std::max<i64>(1, points / std::max<i64>(1, nbeta));
    const i64 nbs = (nbeta + bstep - 1) / bstep, nas = (na + astep - 1) / astep;
    std::vector<double> part(static_cast<std::size_t>(nblocks * npoints), 0.0);
    run_blocks(
        nblocks * nas * nbs, n_threads,
        [&](i64 task) {
            const i64 b = task / (nas * nbs), ra = (task / nbs) % nas, rb = task % nbs;
            const i64 a0 = ra * astep, a1 = std::min(na, a0 + astep), b0 = rb * bstep, b1 = std::min(nbeta, b0 + bstep);
            const i64 i1 = std::min(B, (b + 1) * kGridBlock);
            for (i64 i0 = b * kGridBlock; i0 < i1; i0 += kGridSub) {
                if (block_cancelled()) return;
                fill(i0, std::min(i1, i0 + kGridSub), a0, a1, b0, b1, part.data() + b * npoints);
            }
        },
        stop);
    for (i64 p = 0; p < npoints; ++p) {
        double s = 0.0;
        for (i64 b = 0; b < nblocks; ++b) s += part[b * npoints + p];
        out[p] = s / static_cast<double>(B);
    }
}

// out (na, nbeta): mean SVM data loss of S0 + alphas[a] S1 + betas[b] S2 (S2 == nullptr: no S2 term,
// nbeta == 1). S0, S1, S2 are (C, B) row-major.
inline void svm_grid(const double* S0, const double* S1, const double* S2, i64 C, i64 B, const i64* y,
                     const double* alphas, i64 na, const double* betas, i64 nbeta, double delta, double* out,
                     int n_threads, const StopFn& stop) {
    const GridKernels& kern = active_kernels().grid;
    grid_driver(B, C, na, nbeta, out, n_threads, stop,
                [&](i64 i0, i64 i1, i64 a0, i64 a1, i64 b0, i64 b1, double* acc) {
        const i64 nb = i1 - i0;
        // Margins relative to the label score, split by direction; label entries can never count.
        std::vector<double> buf(static_cast<std::size_t>(4 * C * nb));
        double* M0 = buf.data();
        double* M1 = M0 + C * nb;
        double* M2 = M1 + C * nb;
        double* scratch = M2 + C * nb;
        for (i64 c = 0; c < C; ++c)
            for (i64 i = 0; i < nb; ++i) {
                const i64 yi = y[i0 + i];
                const bool label = c == yi;
                M0[c * nb + i] = label ? -INFINITY : S0[c * B + i0 + i] - S0[yi * B + i0 + i] + delta;
                M1[c * nb + i] = label ? 0.0 : S1[c * B + i0 + i] - S1[yi * B + i0 + i];
                if (S2) M2[c * nb + i] = label ? 0.0 : S2[c * B + i0 + i] - S2[yi * B + i0 + i];
            }
        for (i64 a = a0; a < a1; ++a)  // one alpha per call: the output row stride stays nbeta
            kern.svm_points(M0, M1, S2 ? M2 : nullptr, C, nb, nb, alphas + a, 1, betas + b0, b1 - b0, acc + a * nbeta + b0, scratch);
    });
}

// out (na, nbeta): mean softmax data loss (log-sum-exp form) of S0 + alphas[a] S1 + betas[b] S2.
inline void softmax_grid(const double* S0, const double* S1, const double* S2, i64 C, i64 B, const i64* y,
                         const double* alphas, i64 na, const double* betas, i64 nbeta, double* out, int n_threads,
                         const StopFn& stop) {
    const GridKernels& kern = active_kernels().grid;
    // A plane: the separable form (grid_kernels.hpp), exps per line, not per point. A lane multiplies up
    // to 32 sums, each at most C, before its log: below 2^31 classes the product cannot overflow.
    if (S2 != nullptr && C < (i64(1) << 31)) {
        grid_driver(B, C, na, nbeta, out, n_threads, stop,
                    [&](i64 i0, i64 i1, i64 a0, i64 a1, i64 b0, i64 b1, double* acc) {
            const i64 nb = i1 - i0, ld = (nb + kPlaneCols - 1) / kPlaneCols * kPlaneCols;
            Scratch<double> buf(static_cast<std::size_t>(3 * C * ld + (a1 - a0 + b1 - b0) * (C + 1) * kPlaneCols));
            double* D[3] = {buf.get(), buf.get() + C * ld, buf.get() + 2 * C * ld};
            const double* S[3] = {S0, S1, S2};
            for (int k = 0; k < 3; ++k)
                for (i64 c = 0; c < C; ++c)
                    for (i64 i = 0; i < ld; ++i)
                        D[k][c * ld + i] = i < nb ? S[k][c * B + i0 + i] - S[k][y[i0 + i] * B + i0 + i] : 0.0;
            kern.softmax_plane_points(D[0], D[1], D[2], C, nb, ld, alphas + a0, a1 - a0, betas + b0, b1 - b0,
                                      acc + a0 * nbeta + b0, nbeta, buf.get() + 3 * C * ld);
        }, 8 * kGridTaskWork);  // a point costs C multiply-adds, not C exps; the exps are per line
        return;
    }
    grid_driver(B, C, na, nbeta, out, n_threads, stop,
                [&](i64 i0, i64 i1, i64 a0, i64 a1, i64 b0, i64 b1, double* acc) {
        const i64 nb = i1 - i0;
        std::vector<double> buf(static_cast<std::size_t>(3 * nb + (C + 1) * nb));
        double* T0 = buf.data();
        double* T1 = T0 + nb;
        double* T2 = T1 + nb;
        double* scratch = T2 + nb;
        for (i64 i = 0; i < nb; ++i) {
            const i64 yi = y[i0 + i];
            T0[i] = S0[yi * B + i0 + i];
            T1[i] = S1[yi * B + i0 + i];
            T2[i] = S2 ? S2[yi * B + i0 + i] : 0.0;
        }
        for (i64 a = a0; a < a1; ++a)
            kern.softmax_points(S0 + i0, S1 + i0, S2 ? S2 + i0 : nullptr, T0, T1, T2, C, nb, B, alphas + a, 1, betas + b0,
                                b1 - b0, acc + a * nbeta + b0, scratch);
    });
}

}  // namespace steepest
