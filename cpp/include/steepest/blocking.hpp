// Shared plumbing of the drivers: how examples are cut into tiles and chunks, how tiles of X are
// presented to the kernels (both memory orders, optional index gathering), and the cancellation
// signal.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "steepest/kernel_table.hpp"
#include "steepest/scratch.hpp"
#include "steepest/thread_pool.hpp"

namespace steepest {

using StopFn = std::function<bool()>;

// Thrown by a driver when should_stop() asked it to stop; every worker has finished by then.
struct Cancelled {};

// X is (D, N): F-order (each example column contiguous) or C-order (each feature row contiguous).
// idx == nullptr: the examples are 0..N-1 (B == N); otherwise idx[0..B) (repeats allowed).
template <class T>
struct Examples {
    const T* X;
    i64 D, N;
    bool fortran;
    const i64* idx;
    i64 B;
    i64 at(i64 k) const { return idx ? idx[k] : k; }
};

// Examples are cut into chunks, each processed by one worker into its own partial result, tile of
// kTile examples after tile. Chunk boundaries depend only on the problem size (never on the thread
// count), and partials are combined in chunk order: results are bitwise reproducible. The examples
// are shared out evenly, on multiples of 4 (the kernels' register blocks): a mini-batch of 200 is
// 100 + 100 examples on two workers, not 96 + 104 (whole tiles), and a step waits for its slower half.
struct Chunking {
    i64 B = 0, nchunks = 0;
    i64 begin(i64 chunk) const { return chunk >= nchunks ? B : chunk * B / nchunks / 4 * 4; }
    i64 end(i64 chunk) const { return begin(chunk + 1); }
};

// max_chunks bounds the partial buffers; min_tiles keeps tiny problems in few chunks.
inline Chunking make_chunking(i64 B, i64 partial_doubles, i64 max_chunks = 32, i64 min_tiles = 4) {
    constexpr i64 kPartialBudget = i64(64) << 20;  // bytes of per-chunk partials, at most
    const i64 ntiles = (B + kTile - 1) / kTile;
    i64 by_memory = std::max<i64>(1, kPartialBudget / std::max<i64>(1, partial_doubles * 8));
    i64 most = std::max<i64>(1, std::min(max_chunks, by_memory));
    const i64 tiles_per_chunk = std::max(min_tiles, (ntiles + most - 1) / most);
    return Chunking{B, (ntiles + tiles_per_chunk - 1) / tiles_per_chunk};
}

// Presents tile after tile of examples as kTile pointers to contiguous columns of D values:
// in place for F-order X; for C-order X gathered (transposed) into a private buffer, kGroup tiles
// at a time when the examples are consecutive, so every feature row is read in long runs.
//
// Given the chunk's first example (`begin`), F-order tiles spread out: each run of kSpread * kTile
// examples is kSpread tiles of every kSpread-th example, not kSpread tiles of consecutive ones. A
// column of D = 3073 doubles is 6 x 4096 + 8 bytes long, so the same line of 8 consecutive columns
// falls in one L1 set (16 float columns), and a tile's 32 consecutive columns crowd 4 sets (2):
// spread out, 32 (16). A/B in one process pair, Zen 3, 15-31 rounds: the F-order loss+grad
// 0.93-0.97x float64, 0.80-0.88x float32 (spreading float32 over 16 gained nothing more), D = 785
// 0.99x, D = 64 0.93x. The order in which a chunk's examples are summed changes with it (and so
// the results' last bits), but it is still fixed by the problem's size alone, as the chunks are.
template <class T>
class TileReader {
  public:
    static constexpr int kGroup = 4;
    static constexpr i64 kLineValues = 64 / static_cast<i64>(sizeof(T));
    static constexpr i64 kSpread = 8, kRun = kSpread * kTile;
    // Tiles are loaded in increasing order below `end` (the end of the caller's chunk); with the
    // chunk's `begin`, F-order tiles spread out (above).
    TileReader(const Examples<T>& ex, const TileKernels<T>& kern, i64 end, i64 begin = -1)
        : ex_(ex), kern_(kern), end_(end), begin_(ex.fortran ? begin : -1) {
        if (!ex_.fortran) buf_.reset(static_cast<std::size_t>(kGroup * kTile * ld_));
    }
    // Loads the tile at k0 (k0 .. min(k0 + kTile, end), or, inside a whole spread run, the run's
    // examples at k0's offset in it plus multiples of kSpread); returns its number of examples.
    int load(i64 k0) {
        const int nk = static_cast<int>(std::min<i64>(kTile, end_ - k0));
        const i64 run = begin_ < 0 ? -1 : begin_ + (k0 - begin_) / kRun * kRun;
        if (run >= 0 && run + kRun <= end_)
            for (int k = 0; k < nk; ++k) index_[k] = ex_.at(run + (k0 - run) / kTile + kSpread * k);
        else
            for (int k = 0; k < nk; ++k) index_[k] = ex_.at(k0 + k);
        if (ex_.fortran) {
            for (int k = 0; k < nk; ++k) cols_[k] = ex_.X + index_[k] * ex_.D;
        } else if (ex_.idx == nullptr) {
            if (k0 < g0_ || k0 >= g1_) {  // gather the group of tiles starting at k0
                g0_ = k0;
                g1_ = std::min(k0 + kGroup * kTile, end_);
                i64 all[kGroup * kTile];
                for (i64 e = g0_; e < g1_; ++e) all[e - g0_] = e;
                kern_.gather_rows(ex_.X, ex_.N, ex_.D, all, static_cast<int>(g1_ - g0_), buf_.get(), ld_);
            }
            const T* base = buf_.get() + (k0 - g0_) * ld_;
            for (int k = 0; k < nk; ++k) cols_[k] = base + k * ld_;
        } else {
            kern_.gather_rows(ex_.X, ex_.N, ex_.D, index_, nk, buf_.get(), ld_);
            for (int k = 0; k < nk; ++k) cols_[k] = buf_.get() + k * ld_;
        }
        return nk;
    }
    const T* const* cols() const { return cols_; }
    bool in_place() const { return ex_.fortran; }  // the columns are X's own, not a gathered copy
    const i64* index() const { return index_; }

  private:
    const Examples<T>& ex_;
    const TileKernels<T>& kern_;
    const i64 end_, begin_;
    // gathered columns start on whole cache lines (64 bytes): the transposes store whole lines
    const i64 ld_ = (ex_.D + kLineValues - 1) / kLineValues * kLineValues;
    i64 g0_ = 0, g1_ = 0;
    Scratch<T> buf_;
    i64 index_[kTile] = {};
    const T* cols_[kTile] = {};
};

// Runs fn(chunk) for every chunk on the pool; throws Cancelled if should_stop() asked to stop.
inline void run_blocks(i64 nblocks, int n_threads, const std::function<void(i64)>& fn, const StopFn& stop) {
    if (!ThreadPool::instance().parallel_for(nblocks, n_threads, fn, stop)) throw Cancelled();
}

// out[j] = sum_b parts[b * stride + j] for j < n, summed in b order (parallel over j segments); then,
// if given, done(j0, j1) for each segment while its sums are in cache (a caller's per-entry step).
inline void reduce_partials(const double* parts, i64 nparts, i64 stride, i64 n, double* out, int n_threads,
                            const StopFn& stop, const std::function<void(i64, i64)>* done = nullptr) {
    constexpr i64 kSegment = 8192;
    // below it, handing segments to a worker costs more than the sum (the workers are still awake after
    // the pass: the mini-batch step's 2 x 30,730 partial sums and its dW on 2 threads, 7 % faster)
    constexpr i64 kSerialValues = i64(1) << 15;
    const i64 nseg = (n + kSegment - 1) / kSegment;
    run_blocks(
        nseg, n * nparts <= kSerialValues ? 1 : n_threads,
        [&](i64 s) {
            const i64 j0 = s * kSegment, j1 = std::min(n, j0 + kSegment);
            for (i64 j = j0; j < j1; ++j) out[j] = parts[j];
            for (i64 b = 1; b < nparts; ++b) {
                const double* p = parts + b * stride;
                for (i64 j = j0; j < j1; ++j) out[j] += p[j];
            }
            if (done != nullptr) (*done)(j0, j1);
        },
        stop);
}

// W's rows (rows x D doubles) for the scores, copied so that each starts on a whole cache line, ld()
// apart, when the pass is long enough to repay the copy: the loads of W then never split across two
// lines (X's columns start anywhere in a line, so otherwise both operands of most multiply-adds do).
// Full passes gain 1-7 % (float32 most); a mini-batch step (B = 200) lost 4-6 % to the copy: it keeps W.
// Exact copies: no result changes.
class LineAlignedRows {
  public:
    static constexpr i64 kLineValues = 8;       // doubles per 64-byte line
    static constexpr i64 kExamplesPerRow = 64;  // copy when B >= 64 rows: the copy moves < 4 % of the read
    LineAlignedRows(const double* W, i64 rows, i64 D, i64 B) : ptr_(W), ld_(D) {
        if (D % kLineValues == 0 || B < kExamplesPerRow * rows) return;
        ld_ = (D + kLineValues - 1) / kLineValues * kLineValues;
        buf_.reset(static_cast<std::size_t>(rows * ld_));
        for (i64 r = 0; r < rows; ++r) {
            std::copy(W + r * D, W + (r + 1) * D, buf_.get() + r * ld_);
            std::fill(buf_.get() + r * ld_ + D, buf_.get() + (r + 1) * ld_, 0.0);
        }
        ptr_ = buf_.get();
    }
    const double* get() const { return ptr_; }
    i64 ld() const { return ld_; }

  private:
    const double* ptr_;
    i64 ld_;
    Scratch<double> buf_;
};

// W as doubles: a view for double, a converted copy for float.
template <class T>
class DoubleView {
  public:
    DoubleView(const T* p, i64 n) {
        copy_.resize(static_cast<std::size_t>(n));
        for (i64 j = 0; j < n; ++j) copy_[j] = static_cast<double>(p[j]);
        ptr_ = copy_.data();
    }
    const double* get() const { return ptr_; }

  private:
    std::vector<double> copy_;
    const double* ptr_;
};
template <>
class DoubleView<double> {
  public:
    DoubleView(const double* p, i64) : ptr_(p) {}
    const double* get() const { return ptr_; }

  private:
    const double* ptr_;
};

}  // namespace steepest
