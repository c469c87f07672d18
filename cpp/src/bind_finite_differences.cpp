// Bindings of svm_fd and softmax_fd (float64 only: the Python layer casts).
#include "pybind11.hpp"
#include "steepest/finite_differences.hpp"

namespace steepest {
namespace bind {
namespace {

struct FdProblem {
    i64 C, D, N;
    const i64* y;
};

FdProblem check_fd(const py::array& W, const py::array& X, const py::array& y, double h) {
    float64_array(W, "W", 2, false);
    float64_array(X, "X", 2, true);
    FdProblem p{W.shape(0), W.shape(1), X.shape(1), nullptr};
    if (X.shape(0) != p.D)
        throw py::value_error("X must have shape (D, N) with D = W.shape[1] = " + std::to_string(p.D) +
                              "; got X.shape[0] = " + std::to_string(X.shape(0)) + " (did you pass X as (N, D)? use X.T)");
    p.y = index_array(y, "y", p.N, p.C, "one label per column of X");
    if (!(h > 0.0) || !std::isfinite(h)) throw py::value_error("h must be a finite positive float; got " + std::to_string(h));
    return p;
}

py::tuple svm_fd_py(const py::array& W, const py::array& X, const py::array& y, double reg, double delta, double h,
                    int n_threads) {
    FdProblem p = check_fd(W, X, y, h);
    n_threads = thread_count(n_threads);
    Examples<double> ex = examples<double>(X, py::none());
    py::array_t<double> plus({p.C, p.D}), minus({p.C, p.D});
    py::array_t<std::int64_t> kinks({p.C, p.D});
    const double* w = static_cast<const double*>(W.data());
    double* pp = plus.mutable_data();
    double* pm = minus.mutable_data();
    i64* pk = kinks.mutable_data();
    run_without_gil([&](const StopFn& stop) {
        svm_fd(w, p.C, ex, p.y, reg, delta, h, pp, pm, pk, n_threads, stop);
    });
    return py::make_tuple(plus, minus, kinks);
}

py::tuple softmax_fd_py(const py::array& W, const py::array& X, const py::array& y, double reg, double h, int n_threads) {
    FdProblem p = check_fd(W, X, y, h);
    n_threads = thread_count(n_threads);
    Examples<double> ex = examples<double>(X, py::none());
    py::array_t<double> plus({p.C, p.D}), minus({p.C, p.D});
    const double* w = static_cast<const double*>(W.data());
    double* pp = plus.mutable_data();
    double* pm = minus.mutable_data();
    run_without_gil([&](const StopFn& stop) { softmax_fd(w, p.C, ex, p.y, reg, h, pp, pm, n_threads, stop); });
    return py::make_tuple(plus, minus);
}

}  // namespace

void bind_finite_differences(py::module_& m) {
    m.def("svm_fd", &svm_fd_py, py::arg("W").noconvert(), py::arg("X").noconvert(), py::arg("y").noconvert(),
          py::arg("reg"), py::arg("delta"), py::arg("h"), py::arg("n_threads"),
          "(plus, minus, kinks): exact L(W + e+ E_cd) - L(W), L(W - e- E_cd) - L(W) of the SVM for every weight, "
          "e+ = (w + h) - w, e- = w - (w - h), and the number of hinge terms within h |x| of their kink. "
          "About one loss-and-gradient pass over X.");
    m.def("softmax_fd", &softmax_fd_py, py::arg("W").noconvert(), py::arg("X").noconvert(), py::arg("y").noconvert(),
          py::arg("reg"), py::arg("h"), py::arg("n_threads"),
          "(plus, minus): exact softmax loss changes L(W + e+ E_cd) - L(W), L(W - e- E_cd) - L(W) for every weight.");
}

}  // namespace bind
}  // namespace steepest
