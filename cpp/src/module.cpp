// steepest._core: the compiled kernels. This file only calls the bind_<area> functions.
#include "pybind11.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "steepest compiled core: SVM / softmax kernels, exact finite differences, loss grids";
    steepest::bind::bind_system(m);  // first: chooses the SIMD path the other functions use
    steepest::bind::bind_losses(m);
    steepest::bind::bind_finite_differences(m);
    steepest::bind::bind_grid(m);
}
