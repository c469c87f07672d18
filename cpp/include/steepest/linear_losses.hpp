// Scores, multiclass SVM and softmax loss + gradient of a linear classifier (notes/KERNELS.md).
//
// One pass over X: for each tile of kTile examples, the scores W x_i, then the per-example loss
// and gradient coefficients, then dW += coef x_i^T while the tile is still in cache. X is read in
// place in both memory orders (C-order tiles are gathered into a small contiguous buffer), and
// idx gathers mini-batch columns without copying X. Sums accumulate in double for both dtypes.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "steepest/blocking.hpp"
#include "steepest/kernel_table.hpp"
#include "steepest/portable.hpp"
#include "steepest/scratch.hpp"
#include "steepest/stacked_panels.hpp"

namespace steepest {

inline double relu(double m) { return m < 0.0 ? 0.0 : m; }  // max(0, m) that keeps a NaN

// Per-example loss and gradient coefficients from the scores S[c * stride + k]: a tile's scores
// (stride kTile, example k) or one example's own row of scores (stride 1, k = 0).
struct SvmRule {
    double delta;
    // Returns the loss of example k (label yk); writes coef[c * stride + k].
    double operator()(const double* S, i64 C, int k, i64 yk, double* coef, i64 stride = kTile) const {
        const double sy = S[yk * stride + k];
        double loss = 0.0, count = 0.0;
        for (i64 c = 0; c < C; ++c) {
            if (c == yk) continue;
            const double m = S[c * stride + k] - sy + delta;
            loss += relu(m);
            const double on = m > 0.0 ? 1.0 : 0.0;
            coef[c * stride + k] = on;
            count += on;
        }
        coef[yk * stride + k] = -count;
        // A non-finite label score means a non-finite column of X (or overflow): report it as NaN,
        // since relu() alone would hide margins of -inf. The caller then names the cause.
        return std::isfinite(sy) ? loss : NAN;
    }
};

struct SoftmaxRule {
    // loss = logsumexp(s) - s_y (max-subtracted); coef = softmax(s) - onehot(y)
    double operator()(const double* S, i64 C, int k, i64 yk, double* coef, i64 stride = kTile) const {
        double mx = -INFINITY;
        for (i64 c = 0; c < C; ++c) mx = S[c * stride + k] > mx ? S[c * stride + k] : mx;
        double sum = 0.0;
        for (i64 c = 0; c < C; ++c) {
            const double e = std::exp(S[c * stride + k] - mx);
            coef[c * stride + k] = e;
            sum += e;
        }
        for (i64 c = 0; c < C; ++c) coef[c * stride + k] /= sum;
        coef[yk * stride + k] -= 1.0;
        return (mx - S[yk * stride + k]) + std::log(sum);
    }
};

// S (C, B) in T: S = W @ X[:, idx].
template <class T>
void scores(const T* W, i64 C, const Examples<T>& ex, T* S, int n_threads, const StopFn& stop) {
    const TileKernels<T>& kern = kernels<T>();
    DoubleView<T> Wd(W, C * ex.D);
    const LineAlignedRows Wa(Wd.get(), C, ex.D, ex.B);
    const Chunking ch = make_chunking(ex.B, 0);
    run_blocks(
        ch.nchunks, n_threads,
        [&](i64 chunk) {
            TileReader<T> reader(ex, kern, ch.end(chunk));
            std::vector<double> tile(static_cast<std::size_t>(C * kTile));
            for (i64 k0 = ch.begin(chunk); k0 < ch.end(chunk); k0 += kTile) {
                const int nk = reader.load(k0);
                kern.scores(Wa.get(), Wa.ld(), C, ex.D, reader.cols(), nk, tile.data(), reader.in_place());
                for (i64 c = 0; c < C; ++c)
                    for (int k = 0; k < nk; ++k) S[c * ex.B + k0 + k] = static_cast<T>(tile[c * kTile + k]);
            }
        },
        stop);
}

// K models stacked as K blocks of C rows of one (K*C, D) weight matrix (the hyper-parameter grid):
// one pass over the examples scores and differentiates all of them, each block with `rule`.
template <class Rule>
struct Stacked {
    Rule rule;
    i64 models, C;  // C rows per model
};

// Adds example k's loss under each model to loss[0..models) and writes its coefficients.
template <class Rule>
inline void add_example(const Rule& rule, const double* S, i64 C, int k, i64 yk, double* coef, double* loss) {
    loss[0] += rule(S, C, k, yk, coef);
}
template <class Rule>
inline void add_example(const Stacked<Rule>& st, const double* S, i64, int k, i64 yk, double* coef, double* loss) {
    const i64 block = st.C * kTile;  // rows c of model m sit at S[(m * C + c) * kTile + k]
    for (i64 m = 0; m < st.models; ++m) loss[m] += st.rule(S + m * block, st.C, k, yk, coef + m * block);
}
template <class Rule>
inline i64 model_count(const Rule&) {
    return 1;
}
template <class Rule>
inline i64 model_count(const Stacked<Rule>& st) {
    return st.models;
}

// The un-normalized data loss sum_i L_i of every model into losses[0..models) and, if G != nullptr,
// G = sum_i coef_i x_i^T (C, D), then grad_done(j0, j1) (if given) on segments of G as they are
// complete. Every further per-tile step (finite differences) hooks in through
// `extra(chunk, tile, nk, reader, S, coef)`, called after the scores and coefficients of each tile
// are known.
template <class T, class Rule, class Extra>
void loss_pass(const double* Wd, i64 C, const Examples<T>& ex, const i64* y, const Rule& rule, double* G,
               int n_threads, const StopFn& stop, const Chunking& ch, Extra&& extra, double* losses,
               const std::function<void(i64, i64)>* grad_done = nullptr) {
    const TileKernels<T>& kern = kernels<T>();
    const i64 CD = C * ex.D, M = model_count(rule);
    const LineAlignedRows Wa(Wd, C, ex.D, ex.B);
    std::vector<double> chunk_loss(static_cast<std::size_t>(ch.nchunks * M), 0.0);
    Scratch<double> parts;
    if (G != nullptr && ch.nchunks > 1) parts.reset(static_cast<std::size_t>(ch.nchunks * CD));
    run_blocks(
        ch.nchunks, n_threads,
        [&](i64 chunk) {
            TileReader<T> reader(ex, kern, ch.end(chunk), ch.begin(chunk));
            std::vector<double> S(static_cast<std::size_t>(C * kTile)), coef(static_cast<std::size_t>(C * kTile));
            // the chunk's first tile writes its partial g whole (`fresh`), so g is never zeroed first
            double* g = G == nullptr ? nullptr : ch.nchunks > 1 ? parts.get() + chunk * CD : G;
            bool fresh = true;
            double* loss = chunk_loss.data() + chunk * M;
            for (i64 k0 = ch.begin(chunk); k0 < ch.end(chunk); k0 += kTile) {
                if (block_cancelled()) break;
                const int nk = reader.load(k0);
                // a mini-batch's labels are random reads of y, which the tiles have pushed out of cache:
                // fetched while the scores run, not one miss an example in the rules (the step 1.4-3.4 % faster)
                for (int k = 0; k < nk; ++k) prefetch(y + reader.index()[k]);
                kern.scores(Wa.get(), Wa.ld(), C, ex.D, reader.cols(), nk, S.data(), reader.in_place());
                for (int k = 0; k < nk; ++k) add_example(rule, S.data(), C, k, y[reader.index()[k]], coef.data(), loss);
                if (g != nullptr) kern.rank_update(g, C, ex.D, coef.data(), reader.cols(), nk, fresh);
                fresh = false;
                extra(chunk, k0, nk, reader, S.data(), coef.data());
            }
            if (g != nullptr && fresh) std::fill(g, g + CD, 0.0);  // no tile (stopped): g still defined
        },
        stop);
    if (G != nullptr && ch.nchunks > 1)
        reduce_partials(parts.get(), ch.nchunks, CD, CD, G, n_threads, stop, grad_done);
    else if (G != nullptr && grad_done != nullptr)
        (*grad_done)(0, CD);
    for (i64 m = 0; m < M; ++m) {  // chunk order: the same total for any thread count
        double total = 0.0;
        for (i64 chunk = 0; chunk < ch.nchunks; ++chunk) total += chunk_loss[chunk * M + m];
        losses[m] = total;
    }
}

// One model's data loss (see above).
template <class T, class Rule, class Extra>
double loss_pass(const double* Wd, i64 C, const Examples<T>& ex, const i64* y, const Rule& rule, double* G,
                 int n_threads, const StopFn& stop, const Chunking& ch, Extra&& extra,
                 const std::function<void(i64, i64)>* grad_done = nullptr) {
    double loss = 0.0;
    loss_pass(Wd, C, ex, y, rule, G, n_threads, stop, ch, std::forward<Extra>(extra), &loss, grad_done);
    return loss;
}

struct NoExtra {
    template <class... A>
    void operator()(A&&...) const {}
};

// reg * sum(W * W) in double: 8 interleaved partial sums (a fixed order, so deterministic) keep
// the adds independent instead of one long chain of dependent adds.
template <class T>
double l2_penalty(const T* W, i64 n, double reg) {
    if (reg == 0.0) return 0.0;  // not 0 * inf: huge but finite W without a penalty is no overflow
    constexpr int kWays = 8;
    double part[kWays] = {};
    i64 j = 0;
    for (; j + kWays <= n; j += kWays)
        for (int w = 0; w < kWays; ++w) part[w] += static_cast<double>(W[j + w]) * static_cast<double>(W[j + w]);
    for (; j < n; ++j) part[0] += static_cast<double>(W[j]) * static_cast<double>(W[j]);
    double s = 0.0;
    for (double p : part) s += p;
    return reg * s;
}

// The gradient entry of loss_grad: G / B + 2 reg W, rounded to T.
template <class T>
inline T gradient_entry(double g, double inv_B, double two_reg, T w) {
    return static_cast<T>(g * inv_B + two_reg * static_cast<double>(w));
}
// The training step's entry W + step * dW, rounded as NumPy's `dW *= step; np.add(W, dW, out=out)`.
template <class T>
inline T stepped_entry(T dw, double step, T w) {
    const T change = static_cast<T>(static_cast<double>(dw) * step);  // NumPy: T * float64 -> T
    return w + change;                                                 // T + T in T
}

// loss = data loss / B + reg sum W^2; if dW: dW = G / B + 2 reg W (in T).
template <class T, class Rule>
double loss_grad(const T* W, i64 C, const Examples<T>& ex, const i64* y, const Rule& rule, double reg, T* dW,
                 int n_threads, const StopFn& stop) {
    const i64 CD = C * ex.D;
    DoubleView<T> Wd(W, CD);
    Scratch<double> G;
    if (dW != nullptr) G.reset(static_cast<std::size_t>(CD));
    const Chunking ch = make_chunking(ex.B, dW != nullptr ? CD : 0);
    const double B = static_cast<double>(ex.B), inv_B = 1.0 / B, two_reg = 2.0 * reg;
    // dW from each segment of G as the partials' reduction completes it (on the workers, in cache);
    // a multiply, not a divide per weight: this runs after every mini-batch step
    const std::function<void(i64, i64)> to_dW = [&](i64 j0, i64 j1) {
        for (i64 j = j0; j < j1; ++j) dW[j] = gradient_entry(G[j], inv_B, two_reg, W[j]);
    };
    const double data =
        loss_pass(Wd.get(), C, ex, y, rule, G.get(), n_threads, stop, ch, NoExtra(), dW != nullptr ? &to_dW : nullptr);
    return data / B + l2_penalty(W, CD, reg);
}

// The penalty reg * sum(W_m * W_m) of the packed model m of C rows: its rows' squares summed in row order.
inline double packed_penalty(const PackedRows& WT, i64 m, i64 C, double reg) {
    if (reg == 0.0) return 0.0;  // as l2_penalty
    double s = 0.0;
    for (i64 r = m * C; r < (m + 1) * C; ++r) s += WT.row_squares(r);
    return reg * s;
}

// K stacked models (W is (K*C, D)): losses[m] and, if dW, dW's block m: the loss and gradient of
// model m alone with reg regs[m], to rounding (many models take the panel pass, stacked_panels.hpp,
// whose sums run in another order than loss_grad's tiles). With `steps` (K,) and `out` (K*C, D)
// instead of dW: the gradient step out = W + steps[m] * dW of every model, rounded as NumPy's
// `dW *= steps; np.add(W, dW, out=out)` in T (a training loop's update without a pass over dW in
// Python; out may be W itself). With neither dW nor out: the losses alone.
template <class T, class Rule>
void stacked_loss_grad(const T* W, i64 K, i64 C, const Examples<T>& ex, const i64* y, const Rule& rule,
                       const double* regs, double* losses, T* dW, int n_threads, const StopFn& stop,
                       const double* steps = nullptr, T* out = nullptr) {
    const i64 CD = C * ex.D, KCD = K * CD;
    const bool want_grad = dW != nullptr || out != nullptr;
    const double inv_B = 1.0 / static_cast<double>(ex.B);
    // Row r's entries d0 .. d0 + n from the data gradient's sums g (the penalty's W is read first).
    auto finish = [&](i64 r, i64 d0, i64 n, const double* g) {
        const i64 m = r / C, j0 = r * ex.D + d0;
        const double two_reg = 2.0 * regs[m];
        if (out != nullptr)
            for (i64 t = 0; t < n; ++t)
                out[j0 + t] = stepped_entry(gradient_entry(g[t], inv_B, two_reg, W[j0 + t]), steps[m], W[j0 + t]);
        else if (dW != nullptr)
            for (i64 t = 0; t < n; ++t) dW[j0 + t] = gradient_entry(g[t], inv_B, two_reg, W[j0 + t]);
    };
    std::vector<double> penalty(static_cast<std::size_t>(K));
    // one model always takes the tiles: bitwise loss_grad's loss and gradient (a training step in the call)
    if (K > 1 && use_panel_pass(K * C, ex, want_grad)) {
        const PackedRows WT(W, K, C, ex.D, n_threads, stop);  // with its rows' squares: W read once for both
        for (i64 m = 0; m < K; ++m) penalty[m] = packed_penalty(WT, m, C, regs[m]);
        auto finish_rows = [&](i64 d0, i64 n, const double* G, i64 ldg) {
            for (i64 r = 0; r < K * C; ++r) finish(r, d0, n, G + r * ldg);
        };
        stacked_panel_pass(WT, K, C, ex, y, rule, want_grad, finish_rows, losses, n_threads, stop);
    } else {  // few rows or a long pass: the tiles, with per-chunk partial gradients
        // K penalties over megabytes of W, one task per model, before `out` may overwrite W
        run_blocks(K, n_threads, [&](i64 m) { penalty[m] = l2_penalty(W + m * CD, CD, regs[m]); }, stop);
        DoubleView<T> Wd(W, KCD);
        Scratch<double> G;
        if (want_grad) G.reset(static_cast<std::size_t>(KCD));
        const Chunking ch = make_chunking(ex.B, want_grad ? KCD : 0);
        // each segment of G finished as the partials' reduction completes it (on the workers, in cache)
        const std::function<void(i64, i64)> finish_segment = [&](i64 j0, i64 j1) {
            for (i64 j = j0; j < j1;) {
                const i64 r = j / ex.D, end = std::min(j1, (r + 1) * ex.D);
                finish(r, j - r * ex.D, end - j, G.get() + j);
                j = end;
            }
        };
        loss_pass(Wd.get(), K * C, ex, y, Stacked<Rule>{rule, K, C}, G.get(), n_threads, stop, ch, NoExtra(), losses,
                  want_grad ? &finish_segment : nullptr);
    }
    for (i64 m = 0; m < K; ++m) losses[m] = losses[m] / static_cast<double>(ex.B) + penalty[m];
}

// S training steps of K stacked models, one mini-batch each: batches (S, B) positions of ex's examples
// (ex.idx is ignored), losses (S, K) the loss at each step's W, out (K*C, D) the weights after the last
// step (may be W itself). Bitwise S calls of stacked_loss_grad with `steps` and `out`. A panel pass keeps
// W^T packed from step to step and writes each step into it, so W is neither packed nor read again:
// out is written once, at the end, and left as it was if the run is stopped.
template <class T, class Rule>
void stacked_train(const T* W, i64 K, i64 C, Examples<T> ex, const i64* batches, i64 S, const i64* y,
                   const Rule& rule, const double* regs, const double* steps, double* losses, T* out, int n_threads,
                   const StopFn& stop) {
    const i64 R = K * C, D = ex.D, B = ex.B;
    if (!(K > 1 && use_panel_pass(R, ex, true))) {  // step after step, in place in out
        Scratch<T> now(static_cast<std::size_t>(R * D));
        std::copy(W, W + R * D, now.get());
        for (i64 s = 0; s < S; ++s) {
            ex.idx = batches + s * B;
            stacked_loss_grad(now.get(), K, C, ex, y, rule, regs, losses + s * K, static_cast<T*>(nullptr),
                              n_threads, stop, steps, now.get());
        }
        std::copy(now.get(), now.get() + R * D, out);
        return;
    }
    PackedRows WT(W, K, C, D, n_threads, stop);
    const i64 PW = active_kernels().panel.width;
    const double inv_B = 1.0 / static_cast<double>(B);
    // every row's step per entry, so the step below runs along a panel's contiguous rows
    std::vector<double> two_reg(static_cast<std::size_t>(R)), step(static_cast<std::size_t>(R));
    for (i64 r = 0; r < R; ++r) two_reg[r] = 2.0 * regs[r / C], step[r] = steps[r / C];
    // the step of features d0 .. d0 + n (whole blocks of the squares), in place in the panels, from G by
    // features (g[t * ldg + r]); then the blocks' squares of the new W for the next step's penalties
    constexpr i64 SB = PackedRows::kSquareBlock;
    auto step_panels = [&](i64 d0, i64 n, const double* G, i64 ldg) {
        for (i64 rb = 0; rb * PW < R; ++rb) {
            const i64 r0 = rb * PW, rows = std::min(PW, R - r0);
            const double *tr = two_reg.data() + r0, *st = step.data() + r0;
            for (i64 t = 0; t < n; ++t) {
                double* p = WT.panel(rb, d0 + t);
                const double* g = G + t * ldg + r0;
                for (i64 j = 0; j < rows; ++j) {
                    const T w = static_cast<T>(p[j]);
                    p[j] = static_cast<double>(stepped_entry(gradient_entry(g[j], inv_B, tr[j], w), st[j], w));
                }
                if ((d0 + t + 1) % SB == 0 || d0 + t + 1 == ex.D) WT.sum_block_squares(rb, (d0 + t) / SB);
            }
        }
    };
    std::vector<double> penalty(static_cast<std::size_t>(K));
    for (i64 s = 0; s < S; ++s) {
        for (i64 m = 0; m < K; ++m) penalty[m] = packed_penalty(WT, m, C, regs[m]);
        ex.idx = batches + s * B;
        double* l = losses + s * K;
        stacked_panel_pass<GradientOrder::features>(WT, K, C, ex, y, rule, true, step_panels, l, n_threads, stop);
        for (i64 m = 0; m < K; ++m) l[m] = l[m] / static_cast<double>(B) + penalty[m];
    }
    WT.unpack(out);
}

template <class T>
double svm_loss_grad(const T* W, i64 C, const Examples<T>& ex, const i64* y, double reg, double delta, T* dW,
                     int n_threads, const StopFn& stop) {
    return loss_grad(W, C, ex, y, SvmRule{delta}, reg, dW, n_threads, stop);
}

template <class T>
double softmax_loss_grad(const T* W, i64 C, const Examples<T>& ex, const i64* y, double reg, T* dW, int n_threads,
                         const StopFn& stop) {
    return loss_grad(W, C, ex, y, SoftmaxRule{}, reg, dW, n_threads, stop);
}

}  // namespace steepest
