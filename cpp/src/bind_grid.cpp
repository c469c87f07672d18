// Bindings of svm_grid and softmax_grid.
#include "pybind11.hpp"
#include "steepest/grid_losses.hpp"

namespace steepest {
namespace bind {
namespace {

struct Grid {
    i64 C, B, na, nbeta;
    const double *S0, *S1, *S2, *alphas, *betas;
    const i64* y;
};

void score_matrix(const py::array& S, const char* name, i64 C, i64 B) {
    float64_array(S, name, 2, false);
    if (S.shape(0) != C || S.shape(1) != B)
        throw py::value_error(std::string(name) + " must have the shape of S0 (" + std::to_string(C) + ", " +
                              std::to_string(B) + "); got (" + std::to_string(S.shape(0)) + ", " +
                              std::to_string(S.shape(1)) + ")");
}

const double* vector1d(const py::array& a, const char* name) {
    float64_array(a, name, 1, false);
    return static_cast<const double*>(a.data());
}

Grid check_grid(const py::array& S0, const py::array& S1, const py::object& S2, const py::array& y,
                const py::array& alphas, const py::array& betas) {
    Grid g{};
    float64_array(S0, "S0", 2, false);
    g.C = S0.shape(0);
    g.B = S0.shape(1);
    score_matrix(S1, "S1", g.C, g.B);
    g.S0 = static_cast<const double*>(S0.data());
    g.S1 = static_cast<const double*>(S1.data());
    g.S2 = nullptr;
    g.alphas = vector1d(alphas, "alphas");
    g.betas = vector1d(betas, "betas");
    g.na = alphas.shape(0);
    g.nbeta = betas.shape(0);
    if (!S2.is_none()) {
        if (!py::isinstance<py::array>(S2))
            throw py::type_error("S2 must be None or a float64 array; got " +
                                 py::str(py::type::of(S2).attr("__name__")).cast<std::string>());
        py::array s2 = py::reinterpret_borrow<py::array>(S2);
        score_matrix(s2, "S2", g.C, g.B);
        g.S2 = static_cast<const double*>(s2.data());
    } else if (g.nbeta != 1 || g.betas[0] != 0.0) {
        throw py::value_error("betas must be [0.0] when S2 is None");
    }
    g.y = index_array(y, "y", g.B, g.C, "one label per column of S0");
    return g;
}

py::array svm_grid_py(const py::array& S0, const py::array& S1, const py::object& S2, const py::array& y,
                      const py::array& alphas, const py::array& betas, double delta, int n_threads) {
    Grid g = check_grid(S0, S1, S2, y, alphas, betas);
    n_threads = thread_count(n_threads);
    py::array_t<double> out({g.na, g.nbeta});
    double* o = out.mutable_data();
    run_without_gil([&](const StopFn& stop) {
        svm_grid(g.S0, g.S1, g.S2, g.C, g.B, g.y, g.alphas, g.na, g.betas, g.nbeta, delta, o, n_threads, stop);
    });
    return std::move(out);
}

py::array softmax_grid_py(const py::array& S0, const py::array& S1, const py::object& S2, const py::array& y,
                          const py::array& alphas, const py::array& betas, int n_threads) {
    Grid g = check_grid(S0, S1, S2, y, alphas, betas);
    n_threads = thread_count(n_threads);
    py::array_t<double> out({g.na, g.nbeta});
    double* o = out.mutable_data();
    run_without_gil([&](const StopFn& stop) {
        softmax_grid(g.S0, g.S1, g.S2, g.C, g.B, g.y, g.alphas, g.na, g.betas, g.nbeta, o, n_threads, stop);
    });
    return std::move(out);
}

}  // namespace

void bind_grid(py::module_& m) {
    m.def("svm_grid", &svm_grid_py, py::arg("S0").noconvert(), py::arg("S1").noconvert(), py::arg("S2").none(true),
          py::arg("y").noconvert(), py::arg("alphas").noconvert(), py::arg("betas").noconvert(), py::arg("delta"),
          py::arg("n_threads"),
          "out[a, b] = mean SVM data loss of S0 + alphas[a] S1 + betas[b] S2 (S2 None: betas == [0.0]).");
    m.def("softmax_grid", &softmax_grid_py, py::arg("S0").noconvert(), py::arg("S1").noconvert(),
          py::arg("S2").none(true), py::arg("y").noconvert(), py::arg("alphas").noconvert(),
          py::arg("betas").noconvert(), py::arg("n_threads"),
          "out[a, b] = mean softmax data loss of S0 + alphas[a] S1 + betas[b] S2 (S2 None: betas == [0.0]).");
}

}  // namespace bind
}  // namespace steepest
