// The table of SIMD kernels one instruction-set level provides.
//
// Drivers (linear_losses.hpp, finite_differences.hpp, grid_losses.hpp) are plain C++ compiled for
// baseline x86-64; they do the blocking, threading and reductions and call the hot inner kernels
// through this table, which cpp/src/isa_{baseline,avx2,avx512}.cpp fill in with code compiled for
// their level. The table for the path chosen at import is returned by `kernels<T>()`.
#pragma once

#include <cstdint>

namespace steepest {

using i64 = std::int64_t;

// Examples per tile: a tile of X (kTile columns of D values) stays in L2 while it is read for the
// scores and again for the gradient. Fixed, so results never depend on the thread count.
constexpr int kTile = 32;
// Highest power in the exact finite-difference series of softmax_fd.
constexpr int kMaxMoments = 10;

template <class T>
struct TileKernels {
    // S[c * kTile + k] = sum_d W[c, d] * cols[k][d] for k < nk; W is (C, D) double, rows ldw >= D apart.
    // stream: the columns are X's own, coming from memory (not a gathered copy in cache).
    void (*scores)(const double* W, i64 ldw, i64 C, i64 D, const T* const* cols, int nk, double* S, bool stream);
    // G[c, d] += sum_{k < nk} coef[c * kTile + k] * cols[k][d]   (k in order, for each (c, d));
    // fresh: G's old values are not read but taken as +0.0 (G written whole).
    void (*rank_update)(double* G, i64 C, i64 D, const double* coef, const T* const* cols, int nk, bool fresh);
    // buf[k * ldb + d] = X[d * N + ex[k]]: the columns ex[0..nk) of a C-order (D, N) X, made
    // contiguous (ldb >= D; a multiple of 64 bytes keeps the transposes' stores on whole lines).
    void (*gather_rows)(const T* X, i64 N, i64 D, const i64* ex, int nk, T* buf, i64 ldb);
    // out[k] = max_d |cols[k][d]|
    void (*absmax)(const T* const* cols, int nk, i64 D, double* out);
    // The panel product's operands (panel_kernels.hpp), as double:
    // dst[p * width + i] = cols[i][offset + p] for i < ncols, p < n, zero for ncols <= i < width
    void (*pack_transposed)(const T* const* cols, int ncols, i64 offset, i64 n, double* dst, i64 width);
    // dst[p * width + j] = cols[p][offset + j] for j < nd, p < n, zero for nd <= j < width
    void (*pack_rows)(const T* const* cols, i64 n, i64 offset, i64 nd, double* dst, i64 width, i64 stride);
};

constexpr i64 kPlaneCols = 64;  // softmax_plane_points' examples per pass: all its P and one Q stay in L1

struct GridKernels {
    // For one block of nb examples (arrays with row stride ld, C rows):
    // out[a * nbeta + b] += sum_{c, i} max(0, M0[c,i] + alphas[a] * M1[c,i] + betas[b] * M2[c,i])
    // (M2 == nullptr: no beta term, nbeta == 1). Label entries of M0 are -inf. scratch: C * nb.
    void (*svm_points)(const double* M0, const double* M1, const double* M2, i64 C, i64 nb, i64 ld,
                       const double* alphas, i64 na, const double* betas, i64 nbeta, double* out,
                       double* scratch);
    // out[a * nbeta + b] += sum_i (logsumexp_c(s_ci) - s_{y_i, i}), s = S0 + a S1 + b S2, with the
    // label scores T0, T1, T2 (length nb) given separately. scratch: (C + 1) * nb.
    void (*softmax_points)(const double* S0, const double* S1, const double* S2, const double* T0,
                           const double* T1, const double* T2, i64 C, i64 nb, i64 ld, const double* alphas,
                           i64 na, const double* betas, i64 nbeta, double* out, double* scratch);
    // The plane (betas given) in separable form: out[a * ldo + b] += sum_i log(sum_c exp(D0 + a D1 +
    // b D2)[c, i]) with D = S - S_label (C rows of ld columns, zero-padded from nb to ld, a multiple of
    // kPlaneCols). scratch: (na + nbeta) * (C + 1) * kPlaneCols.
    void (*softmax_plane_points)(const double* D0, const double* D1, const double* D2, i64 C, i64 nb, i64 ld,
                                 const double* alphas, i64 na, const double* betas, i64 nbeta, double* out, i64 ldo,
                                 double* scratch);
};

struct MomentKernels {
    // G[(n * C + c) * D + d] += sum_{k < nk} coef[(n * C + c) * kTile + k] * cols[k][d]^(n+1), n < K
    void (*moments)(double* G, int K, i64 C, i64 D, const double* coef, const double* const* cols, int nk);
};

// The packed-panel product (panel_kernels.hpp): C[i * ldc + j] (+)= sum_{p < np} A[p * rows + i] *
// B[p * width + j] for i < rows, j < width, each output one multiply-add chain in p order.
struct PanelKernels {
    int rows, width;
    void (*product)(const double* A, const double* B, i64 np, double* C, i64 ldc, bool accumulate);
};

struct KernelSet {
    const char* name;
    TileKernels<float> f32;
    TileKernels<double> f64;
    MomentKernels moments;
    GridKernels grid;
    PanelKernels panel;
    // Runs `iters` rounds of register-only multiply-adds; returns how many were done (the
    // compute floor of `steepest bench`). *sink depends on all of them.
    double (*multiply_add_probe)(i64 iters, double* sink);
};

const KernelSet& kernel_set_baseline();
const KernelSet& kernel_set_avx2();
const KernelSet& kernel_set_avx512();

// The set chosen at import (set_active_kernels is called once by the module's init).
const KernelSet& active_kernels();
void set_active_kernels(const KernelSet* set);

template <class T>
const TileKernels<T>& kernels();
template <>
inline const TileKernels<float>& kernels<float>() {
    return active_kernels().f32;
}
template <>
inline const TileKernels<double>& kernels<double>() {
    return active_kernels().f64;
}

}  // namespace steepest
