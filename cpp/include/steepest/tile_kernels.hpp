// The hot inner kernels, written once against simd.hpp and compiled once per instruction-set
// level (see cpp/src/isa_*.cpp). Everything here lives in the level's own namespace.
//
// Register blocking: scores are NC classes x NE examples of dot products over D held in vector
// accumulators; the gradient update keeps NC classes x ND vectors of dW in registers while it
// streams the tile's examples. For every output element the order of the floating-point
// operations is fixed by the loop structure alone (never by the thread count).
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "steepest/kernel_table.hpp"
#include "steepest/portable.hpp"
#include "steepest/simd.hpp"

namespace steepest {
namespace STEEPEST_ISA_NS {

constexpr int kAccumulators = kVectorRegisters >= 32 ? 20 : 10;  // vector registers kept for sums
constexpr int kMaxClassBlock = kVectorRegisters >= 32 ? 10 : 5;  // classes per register block (rank update)
constexpr int kScoreClassBlock = 5;  // scores: 5 classes x 4 examples loads fewer values per multiply-add
// Features per L1 block of the scores: a group of rows of W (two class blocks, 10 runs of 1 KB) and
// the tile's kTile columns (32 runs of 1 KB), both restricted to the block, are used by every example
// and class block of the tile while they are in cache; without the blocking each W value is fetched
// from L2 once per example group.
constexpr i64 kScoreBlock = kVectorRegisters >= 32 ? 128 : 64;
// When the columns are X's own (`stream`: F order), the first class block of a tile's scores, the one
// that brings them in from memory, asks for each column's next feature block (kScoreAhead values on)
// while it works on this one. Over half of the scores' time waited on those loads. A/B in one process
// pair: on a Zen 3 core the step 0.88x, the full pass 0.94-0.98x; on the AVX-512 Xeon the step
// 0.88x (float32 0.91x), the full pass 0.97x, two blocks ahead 1.03-1.05x slower than one. A gathered
// copy (C order) is in cache already: prefetching it made that pass 1.05x slower.
constexpr i64 kScoreAhead = kScoreBlock;

inline double to_double(double v) { return v; }
inline double to_double(float v) { return static_cast<double>(v); }

// Examples (scores) or vectors (rank update) per register block for nc classes: as many as the
// accumulators allow, at most 4.
constexpr int per_register_block(int nc) {
    return kAccumulators / nc < 1 ? 1 : (kAccumulators / nc > 4 ? 4 : kAccumulators / nc);
}

// Calls f(c0, nc) for consecutive class blocks of near-equal size nc <= max_block covering [0, C).
template <class F>
inline void for_class_blocks(i64 C, i64 max_block, F&& f) {
    i64 nblk = (C + max_block - 1) / max_block;
    for (i64 b = 0; b < nblk; ++b) {
        i64 c0 = C * b / nblk, c1 = C * (b + 1) / nblk;
        f(c0, static_cast<int>(c1 - c0));
    }
}

// Calls f(std::integral_constant<int, nc>()) for a class block of nc <= kMaxClassBlock classes.
template <class F>
inline void with_class_count(int nc, F&& f) {
    auto as = [&](auto n) {  // counts above this level's largest block never occur (clamped to compile)
        constexpr int N = decltype(n)::value;
        f(std::integral_constant<int, (N <= kMaxClassBlock ? N : kMaxClassBlock)>());
    };
    switch (nc) {
        case 1: return as(std::integral_constant<int, 1>());
        case 2: return as(std::integral_constant<int, 2>());
        case 3: return as(std::integral_constant<int, 3>());
        case 4: return as(std::integral_constant<int, 4>());
        case 5: return as(std::integral_constant<int, 5>());
        case 6: return as(std::integral_constant<int, 6>());
        case 7: return as(std::integral_constant<int, 7>());
        case 8: return as(std::integral_constant<int, 8>());
        case 9: return as(std::integral_constant<int, 9>());
        default: return as(std::integral_constant<int, 10>());
    }
}

// ---------------------------------------------------------------------------------------------
// scores: S[c * kTile + e] = W[c, :] . cols[e][:]

// acc[c][e] (kept in sum[e * NC + c] between feature blocks) += W[c, d] x_e[d] lane-wise over the
// vector part [d0, d1) of the features, d ascending: per lane the same chain of multiply-adds as one
// sweep over all of D, so the blocking changes no result. W's rows are ldw apart. ahead > 0: a
// prefetch of each column `ahead` values on, every 8 values.
template <int NC, int NE, class T>
inline void dot_range(const double* W, i64 ldw, const T* const* x, i64 d0, i64 d1, vd* sum, i64 ahead = 0) {
    vd acc[NC][NE];
#pragma GCC unroll 10
    for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
        for (int e = 0; e < NE; ++e) acc[c][e] = sum[e * NC + c];
    for (i64 d = d0; d < d1; d += kLanes) {
        vd xv[NE];
        if (ahead > 0 && (d & 7) == 0)
#pragma GCC unroll 4
            for (int e = 0; e < NE; ++e) prefetch(x[e] + d + ahead);
#pragma GCC unroll 4
        for (int e = 0; e < NE; ++e) xv[e] = vload(x[e] + d);
#pragma GCC unroll 10
        for (int c = 0; c < NC; ++c) {
            const vd w = vregister(vload(W + c * ldw + d));
#pragma GCC unroll 4
            for (int e = 0; e < NE; ++e) acc[c][e] = vfmadd(w, xv[e], acc[c][e]);
        }
    }
#pragma GCC unroll 10
    for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
        for (int e = 0; e < NE; ++e) sum[e * NC + c] = acc[c][e];
}

// One feature block [d0, d1) of the vector part for the class block's NC rows and every example of the tile.
template <int NC, class T>
inline void scores_feature_block(const double* W, i64 ldw, const T* const* cols, int nk, i64 d0, i64 d1, vd* sum,
                                 i64 ahead = 0) {
    constexpr int NE = per_register_block(NC);
    int e = 0;
    for (; e + NE <= nk; e += NE) dot_range<NC, NE>(W, ldw, cols + e, d0, d1, sum + e * NC, ahead);
    for (; e < nk; ++e) dot_range<NC, 1>(W, ldw, cols + e, d0, d1, sum + e * NC);
}

// The lane sums of a class block, then the scalar tail: S[c * kTile + e].
template <int NC, class T>
inline void scores_finish(const double* W, i64 ldw, i64 D, const T* const* cols, int nk, const vd* sum, double* S) {
    const i64 Dv = D - D % kLanes;
    for (int e = 0; e < nk; ++e)
        for (int c = 0; c < NC; ++c) {
            double s = vhsum(sum[e * NC + c]);
            for (i64 t = Dv; t < D; ++t) s = sfmadd(W[c * ldw + t], to_double(cols[e][t]), s);
            S[c * kTile + e] = s;
        }
}

// Rows are taken kScoreGroup at a time (one model of 10 classes; on 16 registers 30, a plane's three
// score matrices, since a tile of 32 columns does not fit a Zen 3 core's 512 KB of L2: 0.93x): for each
// feature block, all their class blocks use the tile's block of columns while it is in L1, so the
// tile is read from L2 once per group instead of once per class block. The first group streams the
// tile's columns in from memory: 32 sequential runs, which the hardware prefetchers follow (software
// prefetches of the next tile made every pass 8-19 % slower: notes/KERNELS.md).
constexpr i64 kScoreGroup = kVectorRegisters >= 32 ? 2 * kScoreClassBlock : 6 * kScoreClassBlock;

template <class T>
void tile_scores(const double* W, i64 ldw, i64 C, i64 D, const T* const* cols, int nk, double* S, bool stream) {
    const i64 Dv = D - D % kLanes;  // the vector part; the scalar tail is added after the lane sums
    vd sum[kScoreGroup * kTile];
    for (i64 g0 = 0; g0 < C; g0 += kScoreGroup) {
        const i64 gc = C - g0 < kScoreGroup ? C - g0 : kScoreGroup;
        for (i64 j = 0; j < gc * kTile; ++j) sum[j] = vzero();
        for (i64 d0 = 0; d0 < Dv; d0 += kScoreBlock) {
            const i64 d1 = d0 + kScoreBlock < Dv ? d0 + kScoreBlock : Dv;
            const i64 ahead = stream && g0 == 0 && d1 + kScoreAhead <= Dv ? kScoreAhead : 0;  // within the columns
            for_class_blocks(gc, kScoreClassBlock, [&](i64 c0, int nc) {
                with_class_count(nc, [&](auto NC) {
                    scores_feature_block<decltype(NC)::value>(W + (g0 + c0) * ldw, ldw, cols, nk, d0, d1,
                                                              sum + c0 * kTile, c0 == 0 ? ahead : 0);
                });
            });
        }
        for_class_blocks(gc, kScoreClassBlock, [&](i64 c0, int nc) {
            with_class_count(nc, [&](auto NC) {
                scores_finish<decltype(NC)::value>(W + (g0 + c0) * ldw, ldw, D, cols, nk, sum + c0 * kTile,
                                                   S + (g0 + c0) * kTile);
            });
        });
    }
}

// ---------------------------------------------------------------------------------------------
// rank update: G[c, d] += sum_k coef[c * kTile + k] * cols[k][d]

template <int NC, int ND, class T>
inline void update_block(double* G, i64 D, i64 d, const double* coef, const T* const* cols, int nk, bool fresh) {
    vd acc[NC][ND];
#pragma GCC unroll 10
    for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
        for (int j = 0; j < ND; ++j) acc[c][j] = fresh ? vzero() : vload(G + c * D + d + j * kLanes);
    for (int k = 0; k < nk; ++k) {
        const T* x = cols[k] + d;
        vd xv[ND];
#pragma GCC unroll 4
        for (int j = 0; j < ND; ++j) xv[j] = vload(x + j * kLanes);
#pragma GCC unroll 10
        for (int c = 0; c < NC; ++c) {
            vd b = vset1(coef[c * kTile + k]);
#pragma GCC unroll 4
            for (int j = 0; j < ND; ++j) acc[c][j] = vfmadd(b, xv[j], acc[c][j]);
        }
    }
#pragma GCC unroll 10
    for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
        for (int j = 0; j < ND; ++j) vstore(G + c * D + d + j * kLanes, acc[c][j]);
}

// The features [d0, d1) of NC rows of G: register blocks of ND vectors, then single vectors, then
// scalars (the last two only where d1 leaves a remainder).
template <int NC, class T>
inline void update_classes(double* G, i64 D, i64 d0, i64 d1, const double* coef, const T* const* cols, int nk,
                           bool fresh = false) {
    constexpr int ND = per_register_block(NC);
    i64 d = d0;
    for (; d + ND * kLanes <= d1; d += ND * kLanes) update_block<NC, ND>(G, D, d, coef, cols, nk, fresh);
    for (; d + kLanes <= d1; d += kLanes) update_block<NC, 1>(G, D, d, coef, cols, nk, fresh);
    for (; d < d1; ++d)
        for (int c = 0; c < NC; ++c) {
            double g = fresh ? 0.0 : G[c * D + d];
            for (int k = 0; k < nk; ++k) g = sfmadd(coef[c * kTile + k], to_double(cols[k][d]), g);
            G[c * D + d] = g;
        }
}

// Features per block of the update: every class block updates a block of features while the tile's
// columns, restricted to it, are in L1, so the tile comes from L2 (or L3) once, not once per class
// block. A multiple of every register block's ND * kLanes at its level, so only the last block has a
// remainder.
constexpr i64 kUpdateBlock = kVectorRegisters >= 32 ? 96 : 48;

template <class T>
void tile_rank_update(double* G, i64 C, i64 D, const double* coef, const T* const* cols, int nk, bool fresh) {
    // Every G[c, d] becomes G + coef_0 x_0 + coef_1 x_1 + ... in k order, whatever the blocks; fresh:
    // G is not read but taken as +0.0 (bitwise the same as zeroing it first, without that pass over G).
    for (i64 d0 = 0; d0 < D; d0 += kUpdateBlock) {
        const i64 d1 = d0 + kUpdateBlock < D ? d0 + kUpdateBlock : D;
        for_class_blocks(C, kMaxClassBlock, [&](i64 c0, int nc) {
            with_class_count(nc, [&](auto NC) {
                update_classes<decltype(NC)::value>(G + c0 * D, D, d0, d1, coef + c0 * kTile, cols, nk, fresh);
            });
        });
    }
}

// ---------------------------------------------------------------------------------------------
// gather: buf[k * ldb + d] = X[d * N + ex[k]] (C-order X: each feature row is contiguous)

template <class T>
void gather_rows(const T* X, i64 N, i64 D, const i64* ex, int nk, T* buf, i64 ldb) {
    constexpr int TB = transpose_width(static_cast<T*>(nullptr));
    bool contiguous = true;  // consecutive examples (a sweep, not a gathered mini-batch)?
    for (int k = 1; k < nk && contiguous; ++k) contiguous = ex[k] == ex[0] + k;
    if (!contiguous) {  // a mini-batch: gather column by column
        for (i64 d = 0; d < D; ++d) {
            const T* row = X + d * N;
            for (int k = 0; k < nk; ++k) buf[k * ldb + d] = row[ex[k]];
        }
        return;
    }
    const i64 e0 = ex[0];
    const int kfull = nk - nk % TB;
    i64 d = 0;
    for (; d + TB <= D; d += TB) {
        const T* src = X + d * N + e0;
        for (int k = 0; k < kfull; k += TB) transpose_block(src + k, N, buf + k * ldb + d, ldb);
        for (int k = kfull; k < nk; ++k)
            for (int r = 0; r < TB; ++r) buf[k * ldb + d + r] = src[r * N + k];
    }
    for (; d < D; ++d)
        for (int k = 0; k < nk; ++k) buf[k * ldb + d] = X[d * N + e0 + k];
}

template <class T>
void tile_absmax(const T* const* cols, int nk, i64 D, double* out) {
    for (int k = 0; k < nk; ++k) {
        const T* x = cols[k];
        vd vm = vzero();
        i64 d = 0;
        for (; d + kLanes <= D; d += kLanes) vm = vmax(vabs(vload(x + d)), vm);
        double lanes[kLanes];
        vstore(lanes, vm);
        double m = 0.0;
        for (int l = 0; l < kLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
        for (; d < D; ++d) {
            double a = std::fabs(to_double(x[d]));
            m = a > m ? a : m;
        }
        out[k] = m;
    }
}

// ---------------------------------------------------------------------------------------------
// moments: G[(n * C + c) * D + d] += sum_k coef[(n * C + c) * kTile + k] * cols[k][d]^(n+1)
//
// A rank update per power, block of features by block: the block's powers x^(n+1) (each the power
// before times x, so the same values however they are reached) are formed once in an L1 buffer and
// used by every class through the rank update's register blocks. Forming the powers inside each
// class block instead redid them C / NC times, with one class a block at 6 or more terms on 16
// registers. Each G entry is the same chain of multiply-adds in k order as the rank update's.
inline void tile_moments(double* G, int K, i64 C, i64 D, const double* coef, const double* const* cols, int nk) {
    alignas(64) double power[kTile * kUpdateBlock];
    const double* pcols[kTile];
    for (int k = 0; k < nk; ++k) pcols[k] = power + k * kUpdateBlock;
    for (i64 d0 = 0; d0 < D; d0 += kUpdateBlock) {
        const i64 nd = d0 + kUpdateBlock < D ? kUpdateBlock : D - d0;
        for (int k = 0; k < nk; ++k) std::copy(cols[k] + d0, cols[k] + d0 + nd, power + k * kUpdateBlock);
        for (int n = 0; n < K; ++n) {
            if (n > 0)
                for (int k = 0; k < nk; ++k) {
                    double* pw = power + k * kUpdateBlock;
                    const double* x = cols[k] + d0;
                    i64 t = 0;
                    for (; t + kLanes <= nd; t += kLanes) vstore(pw + t, vmul(vload(pw + t), vload(x + t)));
                    for (; t < nd; ++t) pw[t] = pw[t] * x[t];
                }
            for_class_blocks(C, kMaxClassBlock, [&](i64 c0, int nc) {
                with_class_count(nc, [&](auto NC) {
                    update_classes<decltype(NC)::value>(G + (n * C + c0) * D + d0, D, 0, nd,
                                                        coef + (n * C + c0) * kTile, pcols, nk);
                });
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The machine's peak multiply-add rate on this level's vector unit: independent chains of
// multiply-adds on registers only (no memory traffic). Returns the number of multiply-adds done;
// *sink receives a value that depends on every one of them (so none can be optimised away).

inline double multiply_add_probe(i64 iters, double* sink) {
    constexpr int kChains = 12;  // enough independent chains to cover the multiply-add latency
    vd acc[kChains];
    for (int j = 0; j < kChains; ++j) acc[j] = vset1(1e-3 * (j + 1));
    const vd b = vset1(0.999999), c = vset1(1e-9);
    for (i64 it = 0; it < iters; ++it)
#pragma GCC unroll 12
        for (int j = 0; j < kChains; ++j) acc[j] = vfmadd(acc[j], b, c);
    double s = 0.0;
    for (int j = 0; j < kChains; ++j) s += vhsum(acc[j]);
    *sink = s;
    return static_cast<double>(iters) * kChains * kLanes;
}

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
