// Exact finite differences for every weight at once (notes/KERNELS.md, svm_fd / softmax_fd).
//
// Perturbing W[c, d] by e changes only score row c, by e * X[d, :]. For the SVM every hinge term
// is linear in e except where it crosses its kink, so
//     sum_i Delta_i(e) = e * G[c, d] + (corrections of the few terms within |e x| of their kink),
// with G = sum_i coef_i x_i^T the (un-normalized) gradient from the same single pass over X.
// The corrections are computed term by term in the exact form max(-max(0, m), min(m, 0) + t)
// (= max(0, m + t) - max(0, m) without its cancellation), and the same terms give the kink counts.
// For the softmax, Delta_i(e) = K_ci(e x) - [c == y_i] e x with K_ci(u) = log(1 + p_ci expm1(u)), the
// cumulant generating function of a Bernoulli(p_ci): K(u) = sum_n kappa_n(p) u^n / n!, convergent
// for |u| < pi. So sum_i Delta_i(e) = sum_n e^n G_n[c, d] with the moment sums
//     G_n[c, d] = sum_i (kappa_n(p_ci) - [n == 1][c == y_i]) / n! * x_di^n,
// truncated per tile at the first n where the remainder is below 2^-55 |u| (|u| <= max|e| max|x|);
// tiles with too large |u| are evaluated term by term with std::log1p / std::expm1 instead.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "steepest/blocking.hpp"
#include "steepest/linear_losses.hpp"

namespace steepest {

// e_plus = (w + h) - w and e_minus = w - (w - h): the steps the reference loop really takes.
struct FdSteps {
    std::vector<double> plus, minus;
    double largest = 0.0;
    FdSteps(const double* W, i64 n, double h) : plus(static_cast<std::size_t>(n)), minus(static_cast<std::size_t>(n)) {
        for (i64 j = 0; j < n; ++j) {
            const double up = W[j] + h, down = W[j] - h;  // rounded: IEEE, no contraction
            plus[j] = up - W[j];
            minus[j] = W[j] - down;
            largest = std::fmax(largest, std::fmax(std::fabs(plus[j]), std::fabs(minus[j])));
        }
    }
};

// L(W + e E) - L(W) from the per-weight data-loss change (sum over examples) and the exact
// regularization change reg * e * (2 w + e).
inline double fd_total(double data_change, double B, double reg, double w, double e) {
    if (reg == 0.0) return data_change / B;  // not 0 * inf for huge w: no penalty, no overflow
    return data_change / B + reg * (e * (2.0 * w + e));
}

// ---------------------------------------------------------------------------------------------

struct SvmCorrections {
    std::vector<double> plus, minus;
    std::vector<i64> kinks;
    explicit SvmCorrections(i64 n)
        : plus(static_cast<std::size_t>(n), 0.0), minus(static_cast<std::size_t>(n), 0.0), kinks(static_cast<std::size_t>(n), 0) {}
};

// The exact change of one hinge term with margin m when its argument moves by t, minus the linear
// part on * t already counted through G.
inline double hinge_correction(double m, double t) {
    const double neg_pos = -(m > 0.0 ? m : 0.0), neg_part = m < 0.0 ? m : 0.0, on = m > 0.0 ? 1.0 : 0.0;
    const double exact = neg_part + t > neg_pos ? neg_part + t : neg_pos;
    return exact - on * t;
}

// Hinge term (i, j), margin m = s_j - s_{y_i} + delta, of example column x: corrections for the
// weights (j, d) (term moves by +e x) and (y_i, d) (term moves by -e x), and the kink counts.
inline void svm_term(double m, i64 j, i64 yi, const double* x, i64 D, double h, const FdSteps& st, SvmCorrections& out) {
    const double* ep = st.plus.data();
    const double* em = st.minus.data();
    const i64 rj = j * D, ry = yi * D;
    const double am = std::fabs(m);
    for (i64 d = 0; d < D; ++d) {
        const double xd = x[d];
        if (xd == 0.0) continue;
        out.plus[rj + d] += hinge_correction(m, ep[rj + d] * xd);
        out.minus[rj + d] += hinge_correction(m, -em[rj + d] * xd);
        out.plus[ry + d] += hinge_correction(m, -(ep[ry + d] * xd));
        out.minus[ry + d] += hinge_correction(m, em[ry + d] * xd);
        if (am <= h * std::fabs(xd)) {
            ++out.kinks[rj + d];
            ++out.kinks[ry + d];
        }
    }
}

// plus, minus (C, D) float64 and kinks (C, D) int64; W, X float64.
inline void svm_fd(const double* W, i64 C, const Examples<double>& ex, const i64* y, double reg, double delta, double h,
                   double* plus, double* minus, i64* kinks, int n_threads, const StopFn& stop) {
    const i64 D = ex.D, CD = C * D;
    const TileKernels<double>& kern = kernels<double>();
    const FdSteps st(W, CD, h);
    // A term can change by a non-linear amount, or count as a kink, only if |m| <= max(|e|, h) |x|.
    const double reach = std::fmax(st.largest, h) * (1.0 + 1e-12);
    const Chunking ch = make_chunking(ex.B, 4 * CD, 16);
    std::vector<std::unique_ptr<SvmCorrections>> corr(static_cast<std::size_t>(ch.nchunks));
    std::vector<double> G(static_cast<std::size_t>(CD));
    auto extra = [&](i64 chunk, i64, int nk, const TileReader<double>& reader, const double* S, const double*) {
        double xmax[kTile];
        kern.absmax(reader.cols(), nk, D, xmax);
        for (int k = 0; k < nk; ++k) {
            const i64 yk = y[reader.index()[k]];
            const double sy = S[yk * kTile + k], limit = reach * xmax[k];
            for (i64 j = 0; j < C; ++j) {
                if (j == yk) continue;
                const double m = S[j * kTile + k] - sy + delta;  // exactly SvmRule's margin
                if (!(std::fabs(m) <= limit)) continue;
                if (!corr[chunk]) corr[chunk].reset(new SvmCorrections(CD));
                svm_term(m, j, yk, reader.cols()[k], D, h, st, *corr[chunk]);
            }
        }
    };
    loss_pass(W, C, ex, y, SvmRule{delta}, G.data(), n_threads, stop, ch, extra);
    std::vector<double> cp(static_cast<std::size_t>(CD), 0.0), cm(static_cast<std::size_t>(CD), 0.0);
    for (i64 j = 0; j < CD; ++j) kinks[j] = 0;
    for (const auto& c : corr) {  // chunk order
        if (!c) continue;
        for (i64 j = 0; j < CD; ++j) {
            cp[j] += c->plus[j];
            cm[j] += c->minus[j];
            kinks[j] += c->kinks[j];
        }
    }
    const double B = static_cast<double>(ex.B);
    for (i64 j = 0; j < CD; ++j) {
        const double ep = st.plus[j], em = st.minus[j];
        plus[j] = fd_total(ep * G[j] + cp[j], B, reg, W[j], ep);
        minus[j] = fd_total(-em * G[j] + cm[j], B, reg, W[j], -em);
    }
}

// ---------------------------------------------------------------------------------------------

// kappa_n(p) / n! = sum_k a[n][k] p^k with a[n][k] = (-1)^(k-1) (k-1)! S2(n, k) / n!.
struct CumulantTable {
    double a[kMaxMoments + 1][kMaxMoments + 1] = {};
    CumulantTable() {
        double S2[kMaxMoments + 1][kMaxMoments + 1] = {};  // Stirling numbers of the second kind
        S2[0][0] = 1.0;
        for (int n = 1; n <= kMaxMoments; ++n)
            for (int k = 1; k <= n; ++k) S2[n][k] = k * S2[n - 1][k] + S2[n - 1][k - 1];
        double nfact = 1.0;
        for (int n = 1; n <= kMaxMoments; ++n) {
            nfact *= n;
            double kfact = 1.0;  // (k-1)!
            for (int k = 1; k <= n; ++k) {
                if (k > 1) kfact *= (k - 1);
                a[n][k] = ((k - 1) % 2 == 0 ? 1.0 : -1.0) * kfact * S2[n][k] / nfact;
            }
        }
    }
    double operator()(int n, double p) const {  // kappa_n(p) / n!
        double v = 0.0;
        for (int k = n; k >= 1; --k) v = v * p + a[n][k];
        return v * p;
    }
};

// Terms needed so the series remainder is below 2^-55 |u| for |u| <= u_max (0: too large).
inline int moment_terms(double u_max) {
    // |kappa_n / n!| <= M / rho^n on |u| = rho < pi; rho = 2.5 keeps M about 1.
    const double r = u_max / 2.5;
    if (r == 0.0) return 1;
    double rk = r;
    for (int K = 1; K <= kMaxMoments; ++K, rk *= r)
        if (rk <= 0x1p-55) return K;
    return 0;
}

inline void softmax_fd(const double* W, i64 C, const Examples<double>& ex, const i64* y, double reg, double h,
                       double* plus, double* minus, int n_threads, const StopFn& stop) {
    const i64 D = ex.D, CD = C * D;
    const TileKernels<double>& kern = kernels<double>();
    const MomentKernels& mk = active_kernels().moments;
    const FdSteps st(W, CD, h);
    static const CumulantTable kappa;
    const Chunking ch = make_chunking(ex.B, 8 * CD, 16);
    struct Partial {
        std::vector<double> moments;      // [n][c][d], n < terms
        std::vector<double> dplus, dminus;  // tiles evaluated term by term
        int terms = 0;
    };
    std::vector<Partial> parts(static_cast<std::size_t>(ch.nchunks));
    const DoubleView<double> Wd(W, CD);
    auto extra = [&](i64 chunk, i64, int nk, const TileReader<double>& reader, const double* S, const double* coef) {
        Partial& part = parts[chunk];
        double xmax[kTile], tile_max = 0.0;
        kern.absmax(reader.cols(), nk, D, xmax);
        for (int k = 0; k < nk; ++k) tile_max = std::fmax(tile_max, xmax[k]);
        const int K = moment_terms(st.largest * tile_max);
        if (K == 0) {  // |e x| too large for the series: term by term
            if (part.dplus.empty()) {
                part.dplus.assign(static_cast<std::size_t>(CD), 0.0);
                part.dminus.assign(static_cast<std::size_t>(CD), 0.0);
            }
            for (int k = 0; k < nk; ++k) {
                const i64 yk = y[reader.index()[k]];
                const double* x = reader.cols()[k];
                for (i64 c = 0; c < C; ++c) {
                    const double p = coef[c * kTile + k] + (c == yk ? 1.0 : 0.0);
                    const double lab = c == yk ? 1.0 : 0.0;
                    for (i64 d = 0; d < D; ++d) {
                        const double up = st.plus[c * D + d] * x[d], um = -st.minus[c * D + d] * x[d];
                        part.dplus[c * D + d] += std::log1p(p * std::expm1(up)) - lab * up;
                        part.dminus[c * D + d] += std::log1p(p * std::expm1(um)) - lab * um;
                    }
                }
            }
            return;
        }
        if (K > part.terms) {  // grow the moment sums (new powers start at zero)
            part.moments.resize(static_cast<std::size_t>(K * CD), 0.0);
            part.terms = K;
        }
        std::vector<double> mc(static_cast<std::size_t>(K * C * kTile), 0.0);
        for (int k = 0; k < nk; ++k) {
            const i64 yk = y[reader.index()[k]];
            for (i64 c = 0; c < C; ++c) {
                const double g = coef[c * kTile + k];       // p - [c == y]
                const double p = g + (c == yk ? 1.0 : 0.0);
                mc[(0 * C + c) * kTile + k] = g;
                for (int n = 1; n < K; ++n) mc[(n * C + c) * kTile + k] = kappa(n + 1, p);
            }
        }
        mk.moments(part.moments.data(), K, C, D, mc.data(), reader.cols(), nk);
    };
    loss_pass(Wd.get(), C, ex, y, SoftmaxRule{}, nullptr, n_threads, stop, ch, extra);
    int terms = 0;
    for (const Partial& p : parts) terms = p.terms > terms ? p.terms : terms;
    std::vector<double> Gm(static_cast<std::size_t>(terms * CD), 0.0), dp(static_cast<std::size_t>(CD), 0.0),
        dm(static_cast<std::size_t>(CD), 0.0);
    for (const Partial& p : parts) {  // chunk order
        for (std::size_t j = 0; j < p.moments.size(); ++j) Gm[j] += p.moments[j];
        for (std::size_t j = 0; j < p.dplus.size(); ++j) {
            dp[j] += p.dplus[j];
            dm[j] += p.dminus[j];
        }
    }
    const double B = static_cast<double>(ex.B);
    for (i64 j = 0; j < CD; ++j) {
        const double ep = st.plus[j], em = -st.minus[j];
        double sp = 0.0, sm = 0.0;
        for (int n = terms - 1; n >= 0; --n) {
            sp = sp * ep + Gm[n * CD + j];
            sm = sm * em + Gm[n * CD + j];
        }
        plus[j] = fd_total(sp * ep + dp[j], B, reg, W[j], ep);
        minus[j] = fd_total(sm * em + dm[j], B, reg, W[j], em);
    }
}

}  // namespace steepest
