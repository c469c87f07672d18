// The packed-panel product, the inner kernel of the stacked models' mini-batch pass
// (stacked_panels.hpp), compiled once per instruction-set level like tile_kernels.hpp.
//
// C[i, j] (+)= sum_p A[p, i] * B[p, j] for a block of kPanelRows x kPanelWidth outputs, with both
// operands packed by the caller so that every load is contiguous: A as [p][kPanelRows] (broadcast,
// one value per output row), B as [p][kPanelWidth] (whole vectors). Each output is one chain of
// multiply-adds in p order, whatever the vector width: the results do not depend on the level's
// lane count (only on whether it has a fused multiply-add), nor on how the caller cuts the work.
#pragma once

#include <algorithm>

#include "steepest/kernel_table.hpp"
#include "steepest/simd.hpp"
#include "steepest/tile_kernels.hpp"

namespace steepest {
namespace STEEPEST_ISA_NS {

// 8 x 3 vectors on 32 registers (24 sums, 3 B vectors, 1 broadcast), 4 x 3 on 16: per p,
// kPanelVectors loads of B and kPanelRows broadcasts feed kPanelRows x kPanelVectors multiply-adds.
constexpr int kPanelRows = kVectorRegisters >= 32 ? 8 : 4;
constexpr int kPanelVectors = 3;
constexpr int kPanelWidth = kPanelVectors * kLanes;

inline void panel_product(const double* A, const double* B, i64 np, double* C, i64 ldc, bool accumulate) {
    vd acc[kPanelRows][kPanelVectors];
#pragma GCC unroll 8
    for (int i = 0; i < kPanelRows; ++i)
#pragma GCC unroll 3
        for (int j = 0; j < kPanelVectors; ++j) acc[i][j] = accumulate ? vload(C + i * ldc + j * kLanes) : vzero();
#pragma GCC unroll 2
    for (i64 p = 0; p < np; ++p) {
        vd b[kPanelVectors];
#pragma GCC unroll 3
        for (int j = 0; j < kPanelVectors; ++j) b[j] = vload(B + p * kPanelWidth + j * kLanes);
#pragma GCC unroll 8
        for (int i = 0; i < kPanelRows; ++i) {
            const vd a = vset1(A[p * kPanelRows + i]);
#pragma GCC unroll 3
            for (int j = 0; j < kPanelVectors; ++j) acc[i][j] = vfmadd(a, b[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < kPanelRows; ++i)
#pragma GCC unroll 3
        for (int j = 0; j < kPanelVectors; ++j) vstore(C + i * ldc + j * kLanes, acc[i][j]);
}

// The operands' packing. Both copy values exactly (float widened to double).

// dst[p * width + i] = cols[i][offset + p] for i < ncols, p < n; 0 for ncols <= i < width (a multiple
// of kLanes): kLanes columns at a time through a kLanes x kLanes block transpose.
template <class T>
void pack_transposed(const T* const* cols, int ncols, i64 offset, i64 n, double* dst, i64 width) {
    static_assert(kTransposeDouble == kLanes, "one block transpose per kLanes x kLanes block");
    alignas(64) double block[kLanes * kLanes];
    for (i64 i0 = 0; i0 < width; i0 += kLanes) {
        i64 p = 0;
        if (i0 + kLanes <= ncols)
            for (; p + kLanes <= n; p += kLanes) {
                for (int l = 0; l < kLanes; ++l) vstore(block + l * kLanes, vload(cols[i0 + l] + offset + p));
                transpose_block(block, kLanes, dst + p * width + i0, width);
            }
        for (; p < n; ++p)
            for (int l = 0; l < kLanes; ++l)
                dst[p * width + i0 + l] = i0 + l < ncols ? to_double(cols[i0 + l][offset + p]) : 0.0;
    }
}

// The features offset .. offset + nd of each column in groups of `width` (a multiple of kLanes), each
// group's panel `stride` apart: dst[(j / width) * stride + p * width + j % width] = cols[p][offset + j]
// for j < nd, p < n; 0 up to the group's end. One column's features are read in one run.
template <class T>
void pack_rows(const T* const* cols, i64 n, i64 offset, i64 nd, double* dst, i64 width, i64 stride) {
    for (i64 p = 0; p < n; ++p) {
        const T* c = cols[p] + offset;
        for (i64 g0 = 0; g0 < nd; g0 += width) {
            double* o = dst + g0 / width * stride + p * width - g0;  // o[j] for j in the group
            const i64 g1 = std::min(nd, g0 + width);
            i64 j = g0;
            for (; j + kLanes <= g1; j += kLanes) vstore(o + j, vload(c + j));
            for (; j < g1; ++j) o[j] = to_double(c[j]);
            for (; j < g0 + width; ++j) o[j] = 0.0;
        }
    }
}

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
