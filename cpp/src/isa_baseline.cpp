// The kernels compiled for the baseline instruction-set level (flags set per file in CMakeLists.txt).
// In a portable build (STEEPEST_PORTABLE, CMake -DSTEEPEST_PORTABLE=ON) the same kernels are compiled
// from plain C++ (simd.hpp's level -1: no intrinsics), for any CPU, with the baseline's results.
#ifdef STEEPEST_PORTABLE
#define STEEPEST_ISA_LEVEL -1
#define STEEPEST_KERNEL_SET_NAME "portable"
#else
#define STEEPEST_ISA_LEVEL 0
#define STEEPEST_KERNEL_SET_NAME "baseline"
#endif
#define STEEPEST_ISA_NS isa_baseline
#include "steepest/isa_kernel_set.hpp"

namespace steepest {
const KernelSet& kernel_set_baseline() { return isa_baseline::make_kernel_set(STEEPEST_KERNEL_SET_NAME); }
}  // namespace steepest
