// Builds the KernelSet of one instruction-set level. Included once by each cpp/src/isa_*.cpp after
// it defines STEEPEST_ISA_LEVEL and STEEPEST_ISA_NS.
#pragma once

#include "steepest/grid_kernels.hpp"
#include "steepest/kernel_table.hpp"
#include "steepest/panel_kernels.hpp"
#include "steepest/tile_kernels.hpp"

namespace steepest {
namespace STEEPEST_ISA_NS {

inline const KernelSet& make_kernel_set(const char* name) {
    static const KernelSet set = {
        name,
        {&tile_scores<float>, &tile_rank_update<float>, &gather_rows<float>, &tile_absmax<float>,
         &pack_transposed<float>, &pack_rows<float>},
        {&tile_scores<double>, &tile_rank_update<double>, &gather_rows<double>, &tile_absmax<double>,
         &pack_transposed<double>, &pack_rows<double>},
        {&tile_moments},
        {&svm_points, &softmax_points, &softmax_plane_points},
        {kPanelRows, kPanelWidth, &panel_product},
        &multiply_add_probe,
    };
    return set;
}

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
