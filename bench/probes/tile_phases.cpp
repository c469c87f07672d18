// Where a tile's time goes in a full loss+grad pass, with the library's own AVX-512 kernels. A probe
// behind notes/KERNELS.md ("The tile pass, phase by phase"), not part of the library. One thread:
//
//     g++ -O3 -std=c++17 -ffp-contract=off -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma
//         -I cpp/include bench/probes/tile_phases.cpp -o /tmp/tile_phases && /tmp/tile_phases
//
// X is 1,000 tiles of 32 columns of D = 3073 doubles (786 MB, F order, so most columns start inside a
// cache line, as CIFAR-10's do). Per tile of 32 examples it times:
//   read       a plain sum of the tile (the core's read rate from memory)
//   in L2      scores and rank update on one tile that stays in L2, separately: as read in place
//              (X's columns and W's rows start anywhere in a line), with W's rows on whole lines (what
//              a long pass does), and with both on whole lines (no load split across two lines)
//   pass       scores then update, tile after tile from memory (what loss_pass does)
//   + prefetch the pass with the next tile prefetched (into L2) during the update, when the core is
//              not reading memory
//   pipelined  the next tile's scores interleaved with this tile's update, block of 128 features by
//              block, so that the read of one overlaps the arithmetic of the other
// A pass that overlapped its read with its arithmetic would take max(read, scores + update) a tile.
#define STEEPEST_ISA_LEVEL 2
#define STEEPEST_ISA_NS isa_avx512
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "steepest/tile_kernels.hpp"

using namespace steepest;
using namespace steepest::isa_avx512;

static double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

constexpr i64 kC = 10, kTiles = 1000;
// the examples per tile as the library passes them, a run-time value (a constant 32 lets GCC warn
// about the remainder loops, which then never run)
static volatile int tile_examples = kTile;

struct Tile {
    const double* cols[kTile];
    Tile(const double* X, i64 t, i64 ld) {
        for (int k = 0; k < kTile; ++k) cols[k] = X + (t * kTile + k) * ld;
    }
};

// The update of one tile, feature block by feature block as tile_rank_update's 10 x 2 vectors, with
// `prefetch` (or nullptr) the next tile's bytes, spread evenly over the blocks.
static void update(double* G, i64 D, const double* coef, const Tile& tile, const char* prefetch) {
    const i64 blocks = D / 16, lines = kTile * D * 8 / 64, per_block = (lines + blocks - 1) / blocks;
    i64 line = 0, d = 0;
    for (; d + 16 <= D; d += 16) {
        update_block<10, 2>(G, D, d, coef, tile.cols, kTile, false);
        for (i64 end = line + per_block; prefetch != nullptr && line < end && line < lines; ++line)
            _mm_prefetch(prefetch + line * 64, _MM_HINT_T1);
    }
    for (; d + 8 <= D; d += 8) update_block<10, 1>(G, D, d, coef, tile.cols, kTile, false);
    for (; d < D; ++d)
        for (i64 c = 0; c < kC; ++c)
            for (int k = 0; k < kTile; ++k) G[c * D + d] += coef[c * kTile + k] * tile.cols[k][d];
}

// The scores of `next` (if any) and the update of `cur` (if any), 128 features at a time.
static void pipelined(const double* W, double* G, i64 D, const double* coef, const Tile* cur, const Tile* next,
                      double* S) {
    const i64 Dv = D - D % kLanes;
    vd sum[kC * kTile];
    for (auto& s : sum) s = vzero();
    i64 du = 0;
    for (i64 d0 = 0; d0 < Dv; d0 += kScoreBlock) {
        const i64 d1 = d0 + kScoreBlock < Dv ? d0 + kScoreBlock : Dv;
        if (next != nullptr)
            for (i64 c0 = 0; c0 < kC; c0 += 5)
                scores_feature_block<5>(W + c0 * D, D, next->cols, tile_examples, d0, d1, sum + c0 * kTile);
        for (; cur != nullptr && du + 16 <= d1; du += 16) update_block<10, 2>(G, D, du, coef, cur->cols, kTile, false);
    }
    if (cur != nullptr) {
        for (; du + 8 <= D; du += 8) update_block<10, 1>(G, D, du, coef, cur->cols, kTile, false);
        for (; du < D; ++du)
            for (i64 c = 0; c < kC; ++c)
                for (int k = 0; k < kTile; ++k) G[c * D + du] += coef[c * kTile + k] * cur->cols[k][du];
    }
    if (next != nullptr)
        for (i64 c0 = 0; c0 < kC; c0 += 5)
            scores_finish<5>(W + c0 * D, D, D, next->cols, tile_examples, sum + c0 * kTile, S + c0 * kTile);
}

int main() {
    const i64 D = 3073, ldw = 3080, values = kTiles * kTile * D + 64;
    auto* X = static_cast<double*>(aligned_alloc(1 << 21, values * sizeof(double)));
    madvise(X, values * sizeof(double), MADV_HUGEPAGE);
    auto* W = static_cast<double*>(aligned_alloc(64, kC * ldw * sizeof(double)));
    auto* G = static_cast<double*>(aligned_alloc(64, kC * ldw * sizeof(double)));
    double S[kC * kTile], coef[kC * kTile], sink = 0.0;
    for (i64 j = 0; j < values; ++j) X[j] = 1e-3 * (j % 7);
    for (i64 j = 0; j < kC * ldw; ++j) W[j] = 1e-3 * (j % 5), G[j] = 0.0;
    for (i64 j = 0; j < kC * kTile; ++j) coef[j] = 1e-2 * (j % 3);
    const double madds = 2.0 * kTile * kC * D;  // a tile's scores and update
    auto us = [](double seconds) { return 1e6 * seconds / kTiles; };
    for (int round = 0; round < 3; ++round) {
        double t0 = cpu_seconds();
        __m512d acc = _mm512_setzero_pd();
        for (i64 j = 0; j + 8 <= kTiles * kTile * D; j += 8) acc = _mm512_add_pd(acc, _mm512_loadu_pd(X + j));
        const double read = cpu_seconds() - t0;
        sink += _mm512_reduce_add_pd(acc);

        double in_l2[3][2];  // [in place, W's rows aligned, both aligned][scores, update], one tile repeated
        for (int aligned = 0; aligned < 3; ++aligned) {
            const Tile tile(X, 0, aligned == 2 ? ldw : D);  // columns ldw apart: each on whole lines
            t0 = cpu_seconds();
            for (i64 r = 0; r < kTiles; ++r) tile_scores<double>(W, aligned ? ldw : D, kC, D, tile.cols, tile_examples, S, false);
            in_l2[aligned][0] = cpu_seconds() - t0;
            t0 = cpu_seconds();
            for (i64 r = 0; r < kTiles; ++r) update(G, D, coef, tile, nullptr);
            in_l2[aligned][1] = cpu_seconds() - t0;
        }

        double pass[2];  // [with prefetch]
        for (int ahead = 0; ahead < 2; ++ahead) {
            t0 = cpu_seconds();
            for (i64 t = 0; t < kTiles; ++t) {
                const Tile tile(X, t, D);
                tile_scores<double>(W, D, kC, D, tile.cols, tile_examples, S, true);
                const char* next = ahead && t + 1 < kTiles ? reinterpret_cast<const char*>(X + (t + 1) * kTile * D) : nullptr;
                update(G, D, coef, tile, next);
            }
            pass[ahead] = cpu_seconds() - t0;
        }
        t0 = cpu_seconds();
        for (i64 t = 0; t <= kTiles; ++t) {
            const Tile cur(X, t > 0 ? t - 1 : 0, D), next(X, t < kTiles ? t : 0, D);
            pipelined(W, G, D, coef, t > 0 ? &cur : nullptr, t < kTiles ? &next : nullptr, S);
        }
        const double piped = cpu_seconds() - t0;
        sink += S[3] + G[5];
        std::printf(
            "per tile (us): read %.0f | in L2: scores %.0f, update %.0f (%.0f G/s); W's rows whole: scores %.0f; all "
            "lines whole: %.0f, %.0f (%.0f G/s) | pass %.0f (%.1f G/s), + prefetch %.0f, pipelined %.0f | "
            "max(read, arithmetic) %.0f\n",
            us(read), us(in_l2[0][0]), us(in_l2[0][1]), madds * kTiles / (in_l2[0][0] + in_l2[0][1]) / 1e9,
            us(in_l2[1][0]), us(in_l2[2][0]), us(in_l2[2][1]), madds * kTiles / (in_l2[2][0] + in_l2[2][1]) / 1e9,
            us(pass[0]),
            madds * kTiles / pass[0] / 1e9, us(pass[1]), us(piped),
            us(read > in_l2[0][0] + in_l2[0][1] ? read : in_l2[0][0] + in_l2[0][1]));
    }
    return sink == 42.0;  // keeps every sum alive
}
