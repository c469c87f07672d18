// Shared by the binding files: pybind11 includes and the argument checks every binding runs
// before it turns its arrays into raw pointers and releases the GIL.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>

#include "steepest/blocking.hpp"

namespace py = pybind11;

namespace steepest {
namespace bind {

// Registration of one area of the module (each defined in its bind_<area>.cpp).
void bind_system(py::module_& m);
void bind_losses(py::module_& m);
void bind_finite_differences(py::module_& m);
void bind_grid(py::module_& m);

enum class Float { f32, f64 };

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

inline bool is_dtype(const py::array& a, const py::dtype& want) {
    // equal() also distinguishes byte order: a non-native array is refused.
    return a.dtype().equal(want);
}

inline void check_aligned(const py::array& a, const char* name) {
    auto address = reinterpret_cast<std::uintptr_t>(a.data());
    if (a.itemsize() > 0 && address % static_cast<std::uintptr_t>(a.itemsize()) != 0)
        throw py::type_error(std::string(name) + " must be aligned to its item size (" +
                             std::to_string(a.itemsize()) + " bytes); got a misaligned buffer");
}

inline void check_ndim(const py::array& a, const char* name, py::ssize_t ndim) {
    if (a.ndim() != ndim)
        throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) + "-D; got " +
                              std::to_string(a.ndim()) + "-D");
}

inline void check_c_contiguous(const py::array& a, const char* name) {
    if (!(a.flags() & py::array::c_style))
        throw py::type_error(std::string(name) + " must be C-contiguous; got a non-contiguous array (strided view)");
}

// A float32/float64 array, native byte order, aligned; returns which.
inline Float float_array(const py::array& a, const char* name, py::ssize_t ndim, bool allow_fortran) {
    Float kind;
    if (is_dtype(a, py::dtype::of<double>())) {
        kind = Float::f64;
    } else if (is_dtype(a, py::dtype::of<float>())) {
        kind = Float::f32;
    } else {
        throw py::type_error(std::string(name) + " must be a float32 or float64 array (native byte order); got dtype " +
                             dtype_str(a));
    }
    check_ndim(a, name, ndim);
    const bool c = a.flags() & py::array::c_style, f = a.flags() & py::array::f_style;
    if (!(c || (allow_fortran && f)))
        throw py::type_error(std::string(name) + (allow_fortran ? " must be C- or F-contiguous" : " must be C-contiguous") +
                             "; got a non-contiguous array (strided view)");
    check_aligned(a, name);
    return kind;
}

inline void float64_array(const py::array& a, const char* name, py::ssize_t ndim, bool allow_fortran) {
    if (float_array(a, name, ndim, allow_fortran) != Float::f64)
        throw py::type_error(std::string(name) + " must be float64 here (the Python layer casts); got dtype " +
                             dtype_str(a));
}

// A contiguous 1-D int64 array whose values lie in [0, bound) (bound < 0: values not checked).
inline const i64* index_array(const py::array& a, const char* name, i64 length, i64 bound, const char* what) {
    if (!is_dtype(a, py::dtype::of<std::int64_t>()))
        throw py::type_error(std::string(name) + " must be an int64 array (native byte order); got dtype " +
                             dtype_str(a));
    check_ndim(a, name, 1);
    check_c_contiguous(a, name);
    check_aligned(a, name);
    if (length >= 0 && a.shape(0) != length)
        throw py::value_error(std::string(name) + " must have length " + std::to_string(length) + " (" + what +
                              "); got " + std::to_string(a.shape(0)));
    const i64* p = static_cast<const i64*>(a.data());
    if (bound < 0) return p;  // the caller checks the values it uses
    for (i64 k = 0; k < a.shape(0); ++k)
        if (p[k] < 0 || p[k] >= bound)
            throw py::value_error(std::string(name) + " values must lie in [0, " + std::to_string(bound) +
                                  "); got " + std::to_string(p[k]) + " at index " + std::to_string(k));
    return p;
}

// Labels y (N,) int64 in [0, C) for the examples of `ex`. With a mini-batch only the labels it
// uses are read (a step's cost must not grow with N); all of them otherwise.
template <class T>
inline const i64* labels_for(const py::array& y, i64 C, const Examples<T>& ex) {
    if (ex.idx == nullptr) return index_array(y, "y", ex.N, C, "one label per column of X");
    const i64* labels = index_array(y, "y", ex.N, -1, "one label per column of X");  // layout only
    for (i64 k = 0; k < ex.B; ++k) {
        const i64 v = labels[ex.idx[k]];
        if (v < 0 || v >= C)
            throw py::value_error("y values must lie in [0, " + std::to_string(C) + "); got " + std::to_string(v) +
                                  " at index " + std::to_string(ex.idx[k]));
    }
    return labels;
}

inline int thread_count(int n_threads) {
    if (n_threads < 1) throw py::value_error("n_threads must be a positive int; got " + std::to_string(n_threads));
    return n_threads;
}

inline void same_dtype(const py::array& a, const char* an, const py::array& b, const char* bn) {
    if (!a.dtype().equal(b.dtype()))
        throw py::type_error(std::string(an) + " and " + std::string(bn) + " must have the same dtype; got " +
                             dtype_str(a) + " and " + dtype_str(b));
}

// Runs work(stop) with the GIL released. stop() re-takes the GIL to run PyErr_CheckSignals (the
// thread pool calls it every <= 50 ms while it waits). If a signal handler raised (Ctrl-C), the
// workers are stopped, and the pending Python exception is raised here: the module stays usable.
template <class Work>
void run_without_gil(Work&& work) {
    bool interrupted = false;
    StopFn stop = [&interrupted]() {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) interrupted = true;
        return interrupted;
    };
    {
        py::gil_scoped_release release;
        try {
            work(stop);
        } catch (const Cancelled&) {
            // every worker has finished; the Python error set by PyErr_CheckSignals is raised below
        }
    }
    if (interrupted) throw py::error_already_set();
}

// X (D, N) as an Examples view; idx None or int64 (B,).
template <class T>
Examples<T> examples(const py::array& X, const py::object& idx) {
    Examples<T> ex;
    ex.X = static_cast<const T*>(X.data());
    ex.D = X.shape(0);
    ex.N = X.shape(1);
    ex.fortran = !(X.flags() & py::array::c_style);  // a (D, 1) or (1, N) array is both; prefer C
    ex.idx = nullptr;
    ex.B = ex.N;
    if (!idx.is_none()) {
        if (!py::isinstance<py::array>(idx))
            throw py::type_error("idx must be None or an int64 array; got " +
                                 py::str(py::type::of(idx).attr("__name__")).cast<std::string>());
        py::array ia = py::reinterpret_borrow<py::array>(idx);
        ex.idx = index_array(ia, "idx", -1, ex.N, "");
        ex.B = ia.shape(0);
    }
    return ex;
}

}  // namespace bind
}  // namespace steepest
