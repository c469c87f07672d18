// The kernels compiled for the avx512 instruction-set level (flags set per file in CMakeLists.txt).
#define STEEPEST_ISA_LEVEL 2
#define STEEPEST_ISA_NS isa_avx512
#include "steepest/isa_kernel_set.hpp"

namespace steepest {
const KernelSet& kernel_set_avx512() { return isa_avx512::make_kernel_set("avx512"); }
}  // namespace steepest
