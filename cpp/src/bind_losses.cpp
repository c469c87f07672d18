// Bindings of scores, svm_loss_grad and softmax_loss_grad, and their stacked forms (notes/KERNELS.md).
#include "pybind11.hpp"
#include "steepest/linear_losses.hpp"

namespace steepest {
namespace bind {
namespace {

struct Problem {
    Float kind;
    i64 C, D, N;
};

// W (C, D) C-contiguous and X (D, N) C- or F-contiguous, same float dtype.
Problem check_w_x(const py::array& W, const py::array& X) {
    Problem p;
    p.kind = float_array(W, "W", 2, false);
    float_array(X, "X", 2, true);
    same_dtype(W, "W", X, "X");
    p.C = W.shape(0);
    p.D = W.shape(1);
    p.N = X.shape(1);
    if (X.shape(0) != p.D)
        throw py::value_error("X must have shape (D, N) with D = W.shape[1] = " + std::to_string(p.D) + "; got X.shape[0] = " +
                              std::to_string(X.shape(0)) + " (did you pass X as (N, D)? use X.T)");
    return p;
}

template <class T>
py::array scores_impl(const py::array& W, const py::array& X, const py::object& idx, int n_threads, const Problem& p) {
    Examples<T> ex = examples<T>(X, idx);
    py::array_t<T> S({p.C, ex.B});
    const T* w = static_cast<const T*>(W.data());
    T* s = S.mutable_data();
    run_without_gil([&](const StopFn& stop) { scores(w, p.C, ex, s, n_threads, stop); });
    return std::move(S);
}

py::array scores_py(const py::array& W, const py::array& X, const py::object& idx, int n_threads) {
    Problem p = check_w_x(W, X);
    n_threads = thread_count(n_threads);
    if (p.kind == Float::f64) return scores_impl<double>(W, X, idx, n_threads, p);
    return scores_impl<float>(W, X, idx, n_threads, p);
}

template <class T, class Call>
py::tuple loss_impl(const py::array& W, const py::array& X, const py::array& y, const py::object& idx, bool want_grad,
                    const Problem& p, Call&& call) {
    Examples<T> ex = examples<T>(X, idx);
    const i64* labels = labels_for(y, p.C, ex);
    py::object grad = py::none();
    T* g = nullptr;
    if (want_grad) {
        py::array_t<T> dW({p.C, p.D});
        g = dW.mutable_data();
        grad = std::move(dW);
    }
    const T* w = static_cast<const T*>(W.data());
    double loss = 0.0;
    run_without_gil([&](const StopFn& stop) { loss = call(w, ex, labels, g, stop); });
    return py::make_tuple(loss, grad);
}

py::tuple svm_py(const py::array& W, const py::array& X, const py::array& y, const py::object& idx, double reg,
                 double delta, bool want_grad, int n_threads) {
    Problem p = check_w_x(W, X);
    n_threads = thread_count(n_threads);
    auto call = [&](auto w, const auto& ex, const i64* labels, auto g, const StopFn& stop) {
        return svm_loss_grad(w, p.C, ex, labels, reg, delta, g, n_threads, stop);
    };
    if (p.kind == Float::f64) return loss_impl<double>(W, X, y, idx, want_grad, p, call);
    return loss_impl<float>(W, X, y, idx, want_grad, p, call);
}

py::tuple softmax_py(const py::array& W, const py::array& X, const py::array& y, const py::object& idx, double reg,
                     bool want_grad, int n_threads) {
    Problem p = check_w_x(W, X);
    n_threads = thread_count(n_threads);
    auto call = [&](auto w, const auto& ex, const i64* labels, auto g, const StopFn& stop) {
        return softmax_loss_grad(w, p.C, ex, labels, reg, g, n_threads, stop);
    };
    if (p.kind == Float::f64) return loss_impl<double>(W, X, y, idx, want_grad, p, call);
    return loss_impl<float>(W, X, y, idx, want_grad, p, call);
}

// K models stacked: W (K, C, D) C-contiguous, regs (K,) float64; returns (losses (K,), dW (K, C, D)),
// or, given step_sizes (K,) float64 and out (like W), writes W + step_sizes[m] * dW[m] into out and
// returns (losses, None); without want_grad, (losses, None) and no gradient is formed.
template <class T, class RuleFor>
py::tuple stacked_impl(const py::array& W, const py::array& X, const py::array& y, const py::object& idx,
                       const py::array& regs, int n_threads, RuleFor&& rule, const py::object& step_sizes,
                       const py::object& out, bool want_grad) {
    const i64 K = W.shape(0), C = W.shape(1), D = W.shape(2);
    Examples<T> ex = examples<T>(X, idx);
    const i64* labels = labels_for(y, C, ex);
    py::array_t<double> losses(K);
    const T* w = static_cast<const T*>(W.data());
    const double* r = static_cast<const double*>(regs.data());
    double* l = losses.mutable_data();
    if (!want_grad) {
        run_without_gil([&](const StopFn& stop) {
            stacked_loss_grad(w, K, C, ex, labels, rule, r, l, static_cast<T*>(nullptr), n_threads, stop);
        });
        return py::make_tuple(losses, py::none());
    }
    if (!out.is_none()) {
        const double* st = static_cast<const double*>(py::cast<py::array>(step_sizes).data());
        T* o = static_cast<T*>(py::cast<py::array>(out).mutable_data());
        run_without_gil([&](const StopFn& stop) {
            stacked_loss_grad(w, K, C, ex, labels, rule, r, l, static_cast<T*>(nullptr), n_threads, stop, st, o);
        });
        return py::make_tuple(losses, py::none());
    }
    py::array_t<T> dW({K, C, D});
    T* g = dW.mutable_data();
    run_without_gil([&](const StopFn& stop) { stacked_loss_grad(w, K, C, ex, labels, rule, r, l, g, n_threads, stop); });
    return py::make_tuple(losses, dW);
}

// step_sizes and out: both None, or step_sizes (K,) float64 and out a writable C-contiguous array like W.
void check_step(const py::array& W, const py::object& step_sizes, const py::object& out) {
    if (step_sizes.is_none() != out.is_none())
        throw py::value_error(std::string("step_sizes and out go together: pass both or neither; got ") +
                              (step_sizes.is_none() ? "out without step_sizes" : "step_sizes without out"));
    if (step_sizes.is_none()) return;
    if (!py::isinstance<py::array>(step_sizes) || !py::isinstance<py::array>(out))
        throw py::type_error("step_sizes and out must be NumPy arrays");
    const py::array s = py::cast<py::array>(step_sizes), o = py::cast<py::array>(out);
    float64_array(s, "step_sizes", 1, false);
    if (s.shape(0) != W.shape(0))
        throw py::value_error("step_sizes must hold one step size per model: " + std::to_string(W.shape(0)) + "; got " +
                              std::to_string(s.shape(0)));
    float_array(o, "out", 3, false);
    same_dtype(W, "W", o, "out");
    for (int a = 0; a < 3; ++a)
        if (o.shape(a) != W.shape(a)) throw py::value_error("out must have W's shape (K, C, D)");
    if (!o.writeable()) throw py::value_error("out must be writable");
}

// W (K, C, D) C-contiguous, X (D, N) of its dtype, regs (K,) float64: W's dtype.
Float check_stacked(const py::array& W, const py::array& X, const py::array& regs) {
    const Float kind = float_array(W, "W", 3, false);
    float_array(X, "X", 2, true);
    same_dtype(W, "W", X, "X");
    if (X.shape(0) != W.shape(2))
        throw py::value_error("X must have shape (D, N) with D = W.shape[2] = " + std::to_string(W.shape(2)) +
                              "; got X.shape[0] = " + std::to_string(X.shape(0)));
    float64_array(regs, "regs", 1, false);
    if (regs.shape(0) != W.shape(0))
        throw py::value_error("regs must hold one reg per model: " + std::to_string(W.shape(0)) + "; got " +
                              std::to_string(regs.shape(0)));
    return kind;
}

template <class RuleFor>
py::tuple stacked_py(const py::array& W, const py::array& X, const py::array& y, const py::object& idx,
                     const py::array& regs, int n_threads, RuleFor&& rule, const py::object& step_sizes,
                     const py::object& out, bool want_grad = true) {
    const Float kind = check_stacked(W, X, regs);
    check_step(W, step_sizes, out);
    n_threads = thread_count(n_threads);
    if (kind == Float::f64)
        return stacked_impl<double>(W, X, y, idx, regs, n_threads, rule, step_sizes, out, want_grad);
    return stacked_impl<float>(W, X, y, idx, regs, n_threads, rule, step_sizes, out, want_grad);
}

py::tuple svm_stacked_py(const py::array& W, const py::array& X, const py::array& y, const py::object& idx,
                         const py::array& regs, double delta, int n_threads, const py::object& step_sizes,
                         const py::object& out) {
    return stacked_py(W, X, y, idx, regs, n_threads, SvmRule{delta}, step_sizes, out);
}

py::tuple softmax_stacked_py(const py::array& W, const py::array& X, const py::array& y, const py::object& idx,
                             const py::array& regs, int n_threads, const py::object& step_sizes, const py::object& out) {
    return stacked_py(W, X, y, idx, regs, n_threads, SoftmaxRule{}, step_sizes, out);
}

// S training steps of K stacked models, batches (S, B) int64 positions of X's columns: losses (S, K);
// out = the weights after the last step.
template <class T, class Rule>
py::array stacked_train_impl(const py::array& W, const py::array& X, const py::array& y, const py::array& batches,
                             const py::array& regs, int n_threads, const Rule& rule, const py::array& step_sizes,
                             const py::array& out) {
    const i64 K = W.shape(0), C = W.shape(1), S = batches.shape(0);
    Examples<T> ex = examples<T>(X, py::none());
    const py::array flat = batches.attr("reshape")(-1);  // every position checked, and every label it reads
    ex.idx = index_array(flat, "batches", -1, ex.N, "");
    ex.B = flat.shape(0);
    const i64* labels = labels_for(y, C, ex);
    ex.B = batches.shape(1);
    py::array_t<double> losses({S, K});
    const T* w = static_cast<const T*>(W.data());
    T* o = static_cast<T*>(py::array(out).mutable_data());
    const double* r = static_cast<const double*>(regs.data());
    const double* st = static_cast<const double*>(step_sizes.data());
    double* l = losses.mutable_data();
    run_without_gil([&](const StopFn& stop) {
        stacked_train(w, K, C, ex, ex.idx, S, labels, rule, r, st, l, o, n_threads, stop);
    });
    return std::move(losses);
}

template <class Rule>
py::array stacked_train_py(const py::array& W, const py::array& X, const py::array& y, const py::array& batches,
                           const py::array& regs, int n_threads, const Rule& rule, const py::array& step_sizes,
                           const py::array& out) {
    const Float kind = check_stacked(W, X, regs);
    check_step(W, step_sizes, out);
    if (!is_dtype(batches, py::dtype::of<std::int64_t>()))
        throw py::type_error("batches must be an int64 array (native byte order); got dtype " + dtype_str(batches));
    check_ndim(batches, "batches", 2);
    check_c_contiguous(batches, "batches");
    check_aligned(batches, "batches");
    if (batches.shape(0) < 1 || batches.shape(1) < 1)
        throw py::value_error("batches must hold at least one step of at least one example; got shape (" +
                              std::to_string(batches.shape(0)) + ", " + std::to_string(batches.shape(1)) + ")");
    n_threads = thread_count(n_threads);
    if (kind == Float::f64) return stacked_train_impl<double>(W, X, y, batches, regs, n_threads, rule, step_sizes, out);
    return stacked_train_impl<float>(W, X, y, batches, regs, n_threads, rule, step_sizes, out);
}

py::array svm_stacked_train_py(const py::array& W, const py::array& X, const py::array& y, const py::array& batches,
                               const py::array& regs, double delta, const py::array& step_sizes,
                               const py::array& out, int n_threads) {
    return stacked_train_py(W, X, y, batches, regs, n_threads, SvmRule{delta}, step_sizes, out);
}

py::array softmax_stacked_train_py(const py::array& W, const py::array& X, const py::array& y,
                                   const py::array& batches, const py::array& regs, const py::array& step_sizes,
                                   const py::array& out, int n_threads) {
    return stacked_train_py(W, X, y, batches, regs, n_threads, SoftmaxRule{}, step_sizes, out);
}

py::object svm_stacked_losses_py(const py::array& W, const py::array& X, const py::array& y,
                                 const py::object& idx, const py::array& regs, double delta, int n_threads) {
    return stacked_py(W, X, y, idx, regs, n_threads, SvmRule{delta}, py::none(), py::none(), false)[0];
}

py::object softmax_stacked_losses_py(const py::array& W, const py::array& X, const py::array& y,
                                     const py::object& idx, const py::array& regs, int n_threads) {
    return stacked_py(W, X, y, idx, regs, n_threads, SoftmaxRule{}, py::none(), py::none(), false)[0];
}

}  // namespace

void bind_losses(py::module_& m) {
    m.def("scores", &scores_py, py::arg("W").noconvert(), py::arg("X").noconvert(), py::arg("idx").none(true),
          py::arg("n_threads"),
          "S = W @ X[:, idx] (idx None: all columns), (C, B) in W's dtype, accumulated in float64.");
    m.def("svm_loss_grad", &svm_py, py::arg("W").noconvert(), py::arg("X").noconvert(), py::arg("y").noconvert(),
          py::arg("idx").none(true), py::arg("reg"), py::arg("delta"), py::arg("want_grad"), py::arg("n_threads"),
          "Multiclass SVM loss (mean over the examples + reg * sum(W*W)) and gradient (or None): one pass over X.");
    m.def("softmax_loss_grad", &softmax_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("idx").none(true), py::arg("reg"), py::arg("want_grad"),
          py::arg("n_threads"),
          "Softmax cross-entropy loss (log-sum-exp form, mean + reg * sum(W*W)) and gradient (or None).");
    m.def("svm_stacked_loss_grad", &svm_stacked_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("idx").none(true), py::arg("regs").noconvert(), py::arg("delta"),
          py::arg("n_threads"), py::arg("step_sizes") = py::none(), py::arg("out") = py::none(),
          "K stacked models W (K, C, D), their own regs (K,): (losses (K,), dW (K, C, D)) in one pass over X; "
          "with step_sizes (K,) and out: out = W + step_sizes[m] * dW[m], (losses, None).");
    m.def("softmax_stacked_loss_grad", &softmax_stacked_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("idx").none(true), py::arg("regs").noconvert(), py::arg("n_threads"),
          py::arg("step_sizes") = py::none(), py::arg("out") = py::none(),
          "K stacked softmax models W (K, C, D), regs (K,): (losses (K,), dW (K, C, D)) in one pass over X; "
          "with step_sizes (K,) and out: out = W + step_sizes[m] * dW[m], (losses, None).");
    m.def("svm_stacked_train", &svm_stacked_train_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("batches").noconvert(), py::arg("regs").noconvert(), py::arg("delta"),
          py::arg("step_sizes").noconvert(), py::arg("out").noconvert(), py::arg("n_threads"),
          "S training steps of K stacked models W (K, C, D), one mini-batch (a row of batches (S, B)) each: "
          "losses (S, K) at each step's W; out = W after the last step (bitwise S calls of svm_stacked_loss_grad "
          "with step_sizes and out).");
    m.def("softmax_stacked_train", &softmax_stacked_train_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("batches").noconvert(), py::arg("regs").noconvert(),
          py::arg("step_sizes").noconvert(), py::arg("out").noconvert(), py::arg("n_threads"),
          "S training steps of K stacked softmax models; arguments and results as svm_stacked_train.");
    m.def("svm_stacked_losses", &svm_stacked_losses_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("idx").none(true), py::arg("regs").noconvert(), py::arg("delta"),
          py::arg("n_threads"),
          "The SVM losses (K,) of K stacked models W (K, C, D) with their regs (K,), no gradient: one pass over X.");
    m.def("softmax_stacked_losses", &softmax_stacked_losses_py, py::arg("W").noconvert(), py::arg("X").noconvert(),
          py::arg("y").noconvert(), py::arg("idx").none(true), py::arg("regs").noconvert(), py::arg("n_threads"),
          "The softmax losses (K,) of K stacked models W (K, C, D) with their regs (K,), no gradient.");
}

}  // namespace bind
}  // namespace steepest
