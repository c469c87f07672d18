// The stacked models' pass as two packed matrix products: the hyper-parameter grid's step (R = K * C
// rows of W, a mini-batch of B examples, D features) and random search's candidate losses (the
// scores and rules alone, over all N examples); notes/KERNELS.md.
//
//   scores  S (B, R) = X_B^T W^T   contraction over features, threads split the examples
//   rules   every model's per-example loss, and for the gradient coef (R, B)
//   update  G (R, D) = coef X_B^T  contraction over examples, threads split the features
//
// Both products run through the packed-panel kernel (panel_kernels.hpp) on operands packed into
// contiguous, aligned panels, so every load is a whole vector or a broadcast from L1, never a line
// split, and W^T, S and coef are reused from cache the way a GEMM reuses its panels. Each score and
// each gradient entry is one multiply-add chain (over features in order, over examples in order),
// so nothing depends on the thread count or on how the work is cut. G is never stored whole: each
// run of features goes to the caller's `finish` as soon as its sums are complete (the training step:
// into W's rows, or, for a training run, into W^T's panels, kept packed from step to step).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "steepest/blocking.hpp"
#include "steepest/kernel_table.hpp"
#include "steepest/scratch.hpp"

namespace steepest {

// The pass with the gradient keeps coef (R x B doubles) for the update: mini-batches up to this size.
constexpr i64 kPanelMaxExamples = 4096;
// Panel passes need rows for at least this many panels: with fewer, the padding of the rows to whole
// panels and the packing cost more than the tiles' partial gradients (25 models of 10 classes, B = 200:
// 8.0 -> 6.4 ms; 10 models: 3.4 -> 3.0 ms; 5 models: 1.7 -> 2.0 ms, so those keep the tiles).
constexpr i64 kPanelMinPanels = 4;
// Bounds on the buffers of R x (examples) doubles: coef over the mini-batch, each worker's S block.
constexpr i64 kPanelMaxValues = i64(1) << 24;
// Examples per scores task, at most (S of a task: kPanelTaskExamples x R doubles) ...
constexpr i64 kPanelTaskExamples = 128;
// ... and per round of tasks, whose per-example losses are kept and then summed in example order.
constexpr i64 kPanelRoundExamples = 8192;

// Contraction block: features per block of the scores, examples per block of the update. A block of
// W^T (kPanelDepth x width) and of X stay in L1 while every output block that needs them is formed.
constexpr i64 kPanelDepth = 128;

// C-order X is gathered into columns (a task's, or the mini-batch's for the update): within the same
// bound, so a huge D keeps the tiles.
template <class T>
inline bool use_panel_pass(i64 rows, const Examples<T>& ex, bool want_grad) {
    if (rows < kPanelMinPanels * active_kernels().panel.width || rows * kPanelTaskExamples > kPanelMaxValues)
        return false;
    if (!ex.fortran && (want_grad ? ex.B : kPanelTaskExamples) * ex.D > kPanelMaxValues) return false;
    return !want_grad || (ex.B <= kPanelMaxExamples && rows * ex.B <= kPanelMaxValues);
}

// Pointers to the columns (D contiguous values) of the examples k0 .. k1 of the batch: in place for
// F-order X; C-order X is gathered into a contiguous buffer.
template <class T>
class BatchColumns {
  public:
    BatchColumns(const Examples<T>& ex, i64 k0, i64 k1) : ptr_(static_cast<std::size_t>(k1 - k0)) {
        if (ex.fortran) {
            for (i64 k = k0; k < k1; ++k) ptr_[k - k0] = ex.X + ex.at(k) * ex.D;
            return;
        }
        constexpr i64 kLineValues = 64 / static_cast<i64>(sizeof(T));  // columns start on whole lines
        const i64 ld = (ex.D + kLineValues - 1) / kLineValues * kLineValues;
        buf_.reset(static_cast<std::size_t>((k1 - k0) * ld));
        i64 idx[kTile];
        for (i64 t0 = k0; t0 < k1; t0 += kTile) {
            const int nk = static_cast<int>(std::min<i64>(kTile, k1 - t0));
            for (int k = 0; k < nk; ++k) idx[k] = ex.at(t0 + k);
            kernels<T>().gather_rows(ex.X, ex.N, ex.D, idx, nk, buf_.get() + (t0 - k0) * ld, ld);
        }
        for (i64 k = k0; k < k1; ++k) ptr_[k - k0] = buf_.get() + (k - k0) * ld;
    }
    const T* const* get() const { return ptr_.data(); }

  private:
    std::vector<const T*> ptr_;
    Scratch<T> buf_;
};

// W^T in panels of PW rows: panel(rb, 0)[d * PW + j] = W[rb * PW + j, d] (zero past row R, float
// widened to double); R is padded to Rp, a whole number of panels of both products (PW and MI rows).
// W is K models of C rows: task m packs the panels that start in the model's rows and sums their rows'
// squares while they are in cache, so W comes from memory once for the products and the penalties.
// A training run (stacked_train) keeps it from step to step, its steps written in place.
class PackedRows {
  public:
    template <class T>
    PackedRows(const T* W, i64 K, i64 C, i64 D, int n_threads, const StopFn& stop)
        : R_(K * C),
          D_(D),
          PW_(active_kernels().panel.width),
          block_squares_(static_cast<std::size_t>((D + kSquareBlock - 1) / kSquareBlock * K * C)) {
        const i64 whole = std::lcm(static_cast<i64>(active_kernels().panel.rows), PW_);
        Rp_ = (R_ + whole - 1) / whole * whole;
        WT_.reset(static_cast<std::size_t>(Rp_ * D));
        std::vector<const T*> rows(static_cast<std::size_t>(R_));
        for (i64 r = 0; r < R_; ++r) rows[r] = W + r * D;
        run_blocks(
            K, n_threads,
            [&](i64 m) {
                // panels rb with m C <= rb PW < (m + 1) C; the last model also packs the padding's
                const i64 rb0 = (m * C + PW_ - 1) / PW_, rb1 = m + 1 == K ? Rp_ / PW_ : ((m + 1) * C + PW_ - 1) / PW_;
                for (i64 rb = rb0; rb < rb1; ++rb) {
                    const int n = static_cast<int>(std::max<i64>(0, std::min(PW_, R_ - rb * PW_)));
                    kernels<T>().pack_transposed(rows.data() + rb * PW_, n, 0, D, WT_.get() + rb * D * PW_, PW_);
                    for (i64 b = 0; b * kSquareBlock < D; ++b) sum_block_squares(rb, b);
                }
            },
            stop);
    }
    i64 padded_rows() const { return Rp_; }
    const double* panel(i64 rb, i64 d0) const { return WT_.get() + (rb * D_ + d0) * PW_; }
    double* panel(i64 rb, i64 d0) { return WT_.get() + (rb * D_ + d0) * PW_; }

    // Features per partial sum of the rows' squares: a multiple of every level's panel width and group
    // of MI features, so a task of the update that starts on a block owns its partial sums whole.
    static constexpr i64 kSquareBlock = 24;
    // The squares of W[r, d] for the features of block b (in order, each square rounded, then added)
    // of panel rb's rows, from the panel's present values: called again after they are written.
    void sum_block_squares(i64 rb, i64 b) {
        constexpr i64 kMaxWidth = 64;
        double sum[kMaxWidth] = {};
        const i64 n = std::min(PW_, R_ - rb * PW_), d1 = std::min(D_, (b + 1) * kSquareBlock);
        const double* p = panel(rb, b * kSquareBlock);
        for (i64 d = b * kSquareBlock; d < d1; ++d, p += PW_)
            for (i64 j = 0; j < n; ++j) sum[j] += p[j] * p[j];
        std::copy(sum, sum + std::max<i64>(0, n), block_squares_.data() + b * R_ + rb * PW_);
    }
    // sum_d W[r, d]^2: row r's block sums added in block order. The same whatever task formed them,
    // on any instruction set; call once every block's sums are formed.
    double row_squares(i64 r) const {
        double s = 0.0;
        for (i64 b = 0; b * kSquareBlock < D_; ++b) s += block_squares_[b * R_ + r];
        return s;
    }
    // W (R, D) in T from the panels (exact: they hold T's values).
    template <class T>
    void unpack(T* W) const {
        for (i64 r = 0; r < R_; ++r) {
            const double* p = panel(r / PW_, 0) + r % PW_;
            T* w = W + r * D_;
            for (i64 d = 0; d < D_; ++d) w[d] = static_cast<T>(p[d * PW_]);
        }
    }

  private:
    i64 R_, Rp_ = 0, D_, PW_;
    Scratch<double> WT_;
    std::vector<double> block_squares_;  // [b * R + r]
};

// Groups of MI examples per scores task: the examples shared out between the workers, at most
// kPanelTaskExamples a task. Tasks are cut this way for any thread count: every score is the same
// chain of multiply-adds whatever task computes it.
inline i64 panel_task_groups(i64 groups, int n_threads) {
    const i64 MI = active_kernels().panel.rows;
    return std::clamp<i64>((groups + n_threads - 1) / std::max(1, n_threads), 1, kPanelTaskExamples / MI);
}

// The scores S = X^T W^T of the groups [g0, g1) of MI examples, in tasks of task_groups groups on the
// workers: consume(k0, k1, S) gets each task's block, S[(k - k0) * Rp + r] for its examples k0 .. k1,
// once complete (the block lives until consume returns).
template <class T, class Consume>
void panel_scores(const PackedRows& W, const Examples<T>& ex, i64 g0, i64 g1, i64 task_groups, int n_threads,
                  const StopFn& stop, Consume&& consume) {
    const PanelKernels& pk = active_kernels().panel;
    const TileKernels<T>& kern = kernels<T>();
    const i64 MI = pk.rows, PW = pk.width, D = ex.D, B = ex.B, Rp = W.padded_rows();
    run_blocks(
        (g1 - g0 + task_groups - 1) / task_groups, n_threads,
        [&](i64 task) {
            const i64 t0 = g0 + task * task_groups, t1 = std::min(g1, t0 + task_groups);
            const i64 k0 = t0 * MI, k1 = std::min(t1 * MI, B);
            const BatchColumns<T> cols(ex, k0, k1);
            Scratch<double> A(static_cast<std::size_t>((t1 - t0) * kPanelDepth * MI)),
                S(static_cast<std::size_t>((t1 - t0) * MI * Rp));
            for (i64 d0 = 0; d0 < D; d0 += kPanelDepth) {
                if (block_cancelled()) return;
                const i64 np = std::min(kPanelDepth, D - d0);
                for (i64 g = t0; g < t1; ++g)  // A[p][i] = X[d0 + p, example g * MI + i]
                    kern.pack_transposed(cols.get() + (g * MI - k0), static_cast<int>(std::min(MI, B - g * MI)), d0,
                                         np, A.get() + (g - t0) * np * MI, MI);
                for (i64 g = t0; g < t1; ++g)
                    for (i64 rb = 0; rb < Rp / PW; ++rb)
                        pk.product(A.get() + (g - t0) * np * MI, W.panel(rb, d0), np,
                                   S.get() + (g - t0) * MI * Rp + rb * PW, Rp, d0 > 0);
            }
            consume(k0, k1, S.get());
        },
        stop);
}

// How the update hands G to `finish`: a row's run of features contiguous (rows, for W's row-major
// layout) or a feature's rows contiguous (features, for W^T's panels). Each entry is the same chain of
// multiply-adds either way: the two layouts swap the operands of the same panel product.
enum class GradientOrder { rows, features };

// losses[m] = sum_i L_i of model m (examples in order). If want_grad: G = sum_i coef_i x_i^T, handed
// over a run of features at a time as finish(d0, n, G, ldg), after every score is formed (so finish
// may write WT's panels): every (r, d) exactly once, G[r * ldg + t] = G[r, d0 + t] (rows) or
// G[t * ldg + r] = G[r, d0 + t] (features), for r < R, t < n.
// WT is (K * C, D): K models of C rows, each scored and differentiated with `rule`.
template <GradientOrder order = GradientOrder::rows, class T, class Rule, class Finish>
void stacked_panel_pass(const PackedRows& WT, i64 K, i64 C, const Examples<T>& ex, const i64* y, const Rule& rule,
                        bool want_grad, Finish&& finish, double* losses, int n_threads, const StopFn& stop) {
    const PanelKernels& pk = active_kernels().panel;
    const i64 MI = pk.rows, PW = pk.width, D = ex.D, B = ex.B, R = K * C;
    // coef's panels: the broadcast operand (MI rows) for G by rows, the vector operand (PW) by features
    const i64 H = order == GradientOrder::rows ? MI : PW;
    const i64 groups = (B + MI - 1) / MI;  // groups of MI examples (the last one padded)
    const i64 Rp = WT.padded_rows();

    // Scores and rules, the examples split between the workers. coef (with the gradient) in panels of
    // H rows for the update: coef[((r / H) * B + k) * H + r % H]. Rounds of examples bound the
    // per-example losses kept.
    Scratch<double> coef;
    if (want_grad) coef.reset(static_cast<std::size_t>(Rp * B));
    const i64 task_groups = panel_task_groups(groups, n_threads);
    const i64 round_groups = std::max(task_groups, kPanelRoundExamples / MI / task_groups * task_groups);
    std::vector<double> example_loss(static_cast<std::size_t>(std::min(B, round_groups * MI) * K));
    std::fill(losses, losses + K, 0.0);
    for (i64 r0 = 0; r0 < groups; r0 += round_groups) {
        const i64 r1 = std::min(groups, r0 + round_groups);
        panel_scores(WT, ex, r0, r1, task_groups, n_threads, stop, [&](i64 k0, i64 k1, const double* S) {
            std::vector<double> c(static_cast<std::size_t>(C));  // one example's coefficients
            // a mini-batch's labels are random reads of y: all loaded first, their misses overlapped,
            // not one exposed an example behind the rules of the example before
            std::vector<i64> labels(static_cast<std::size_t>(k1 - k0));
            for (i64 k = k0; k < k1; ++k) labels[k - k0] = y[ex.at(k)];
            for (i64 k = k0; k < k1; ++k) {
                const i64 yk = labels[k - k0];
                const double* Sk = S + (k - k0) * Rp;  // the example's scores, model after model
                for (i64 m = 0; m < K; ++m) {
                    example_loss[(k - r0 * MI) * K + m] = rule(Sk + m * C, C, 0, yk, c.data(), 1);
                    if (!want_grad) continue;
                    for (i64 j = 0; j < C; ++j) {
                        const i64 r = m * C + j;
                        coef.get()[((r / H) * B + k) * H + r % H] = c[j];
                    }
                }
                if (want_grad)
                    for (i64 r = R; r < Rp; ++r) coef.get()[((r / H) * B + k) * H + r % H] = 0.0;
            }
        });
        const i64 n = std::min(r1 * MI, B) - r0 * MI;
        for (i64 m = 0; m < K; ++m) {  // example order: the same sums for any thread count
            double total = losses[m];
            for (i64 k = 0; k < n; ++k) total += example_loss[k * K + m];
            losses[m] = total;
        }
    }
    if (!want_grad) return;
    const BatchColumns<T> batch(ex, 0, B);
    const TileKernels<T>& kern = kernels<T>();

    // G = coef X_B^T, PW features at a time, runs of feature blocks split between the workers. A run's
    // G is kept (in L2) and handed over row by row at its end: finish then streams long runs of W and
    // of the output instead of PW values of every row per block.
    // Tasks of at most 16 feature blocks (a task's G stays in L2), a whole number of them per worker where
    // the blocks allow: 9 tasks on 2 workers left one idle for a ninth of the update.
    const i64 feature_blocks = (D + PW - 1) / PW, workers = std::max(1, n_threads);
    const i64 fair = (std::max<i64>(4 * workers, (feature_blocks + 15) / 16) + workers - 1) / workers * workers;
    const i64 update_tasks = std::min(feature_blocks, fair);
    if constexpr (order == GradientOrder::features) {
        // G^T: MI features (the broadcast operand, X packed for all of the task's features per block of
        // examples) by PW rows (coef's panel, kept in L1 while every feature group uses it), so finish
        // reads each feature's rows in W^T's order. Tasks start on whole blocks of the rows' squares.
        const i64 row_panels = (R + PW - 1) / PW, SB = PackedRows::kSquareBlock, blocks = (D + SB - 1) / SB;
        const i64 tasks = std::min(blocks, update_tasks);
        run_blocks(
            tasks, n_threads,
            [&](i64 task) {
                const i64 first = task * blocks / tasks * SB;
                const i64 n = std::min((task + 1) * blocks / tasks * SB, D) - first;
                // groups' panels a line more than 4 KB apart: the pack's stores then fall in different L1 sets
                const i64 groups = (n + MI - 1) / MI, ldx = kPanelDepth * MI + 8;
                Scratch<double> Xs(static_cast<std::size_t>(groups * ldx)),
                    G(static_cast<std::size_t>(groups * MI * Rp));
                for (i64 k0 = 0; k0 < B; k0 += kPanelDepth) {
                    if (block_cancelled()) return;
                    const i64 nk = std::min(kPanelDepth, B - k0);
                    // Xs_g[p][i] = X[first + g MI + i, example k0 + p], each example's run of features read once
                    kern.pack_rows(batch.get() + k0, nk, first, n, Xs.get(), MI, ldx);
                    for (i64 rb = 0; rb < row_panels; ++rb)
                        for (i64 g = 0; g < groups; ++g)
                            pk.product(Xs.get() + g * ldx, coef.get() + (rb * B + k0) * PW, nk,
                                       G.get() + g * MI * Rp + rb * PW, Rp, k0 > 0);
                }
                finish(first, n, G.get(), Rp);
            },
            stop);
        return;
    }
    const i64 row_panels = (R + MI - 1) / MI;  // panels of MI rows with a real row (Rp pads R for the scores too)
    run_blocks(
        update_tasks, n_threads,
        [&](i64 task) {
            const i64 fb0 = task * feature_blocks / update_tasks, fb1 = (task + 1) * feature_blocks / update_tasks;
            const i64 ldg = (fb1 - fb0) * PW, first = fb0 * PW;
            Scratch<double> Xs(static_cast<std::size_t>(kPanelDepth * PW)), G(static_cast<std::size_t>(Rp * ldg));
            for (i64 fb = fb0; fb < fb1; ++fb) {
                if (block_cancelled()) return;
                const i64 d0 = fb * PW, nd = std::min(PW, D - d0);
                for (i64 k0 = 0; k0 < B; k0 += kPanelDepth) {
                    const i64 nk = std::min(kPanelDepth, B - k0);
                    // Xs[p][j] = X[d0 + j, example k0 + p]
                    kern.pack_rows(batch.get() + k0, nk, d0, nd, Xs.get(), PW, 0);
                    for (i64 rb = 0; rb < row_panels; ++rb)
                        pk.product(coef.get() + (rb * B + k0) * MI, Xs.get(), nk,
                                   G.get() + rb * MI * ldg + (d0 - first), ldg, k0 > 0);
                }
            }
            finish(first, std::min(fb1 * PW, D) - first, G.get(), ldg);
        },
        stop);
}

}  // namespace steepest
