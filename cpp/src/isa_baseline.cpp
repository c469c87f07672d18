// The kernels compiled for the baseline instruction-set level (flags set per file in CMakeLists.txt).
#define STEEPEST_ISA_LEVEL 0
#define STEEPEST_ISA_NS isa_baseline
#include "steepest/isa_kernel_set.hpp"

namespace steepest {
const KernelSet& kernel_set_baseline() { return isa_baseline::make_kernel_set("baseline"); }
}  // namespace steepest
