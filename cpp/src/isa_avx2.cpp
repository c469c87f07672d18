// The kernels compiled for the avx2 instruction-set level (flags set per file in CMakeLists.txt).
#define STEEPEST_ISA_LEVEL 1
#define STEEPEST_ISA_NS isa_avx2
#include "steepest/isa_kernel_set.hpp"

namespace steepest {
const KernelSet& kernel_set_avx2() { return isa_avx2::make_kernel_set("avx2"); }
}  // namespace steepest
