// Does this core overlap reading memory with arithmetic? A probe behind notes/KERNELS.md ("Why a pass
// costs its read plus its arithmetic"), not part of the library. One thread, AVX2 + FMA:
//
//     g++ -O2 -mavx2 -mfma bench/probes/memory_overlap.cpp -o /tmp/memory_overlap && /tmp/memory_overlap
//
// X is 50,000 columns of 3,072 doubles (1.2 GB, like CIFAR-10's training set). Every run reads all of X
// once and does F multiply-adds per vector it loads (F = 10: a loss pass's scores, C = 10 classes), on
// independent accumulators. The arithmetic alone is timed on one tile of 32 columns kept in L2; the
// read alone is a plain sequential sum. A core that overlaps the two takes max(read, arithmetic); one
// that does not takes their sum. Patterns: the loss kernels' (32 columns at a time, in 1 KB blocks of
// each, so that the blocks of W stay in L1), with and without a prefetch of the same column a few KB
// ahead, and one column after the other.
#include <immintrin.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

static double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

constexpr long kD = 3072, kTile = 32;

// Columns [0, n) read tile by tile: per tile, blocks of `block` doubles of each column in turn, G
// columns side by side; `ahead` > 0 prefetches (into L2) the same column that many doubles ahead.
// F = 0: the read alone (every vector added once).
template <int F, int G>
double pass(const double* X, long n, long block, long ahead, double* sink) {
    __m256d acc[10], w[10];
    for (int c = 0; c < 10; ++c) acc[c] = _mm256_set1_pd(c), w[c] = _mm256_set1_pd(1.0 + 1e-9 * c);
    const double start = cpu_seconds();
    for (long t = 0; t + kTile <= n; t += kTile)
        for (long d0 = 0; d0 < kD; d0 += block)
            for (int g = 0; g < kTile; g += G)
                for (long d = d0; d < d0 + block; d += 4) {
#pragma GCC unroll 4
                    for (int k = 0; k < G; ++k) {
                        const double* x = X + (t + g + k) * kD;
                        if (ahead) _mm_prefetch(reinterpret_cast<const char*>(x + d + ahead), _MM_HINT_T1);
                        const __m256d v = _mm256_load_pd(x + d);
                        if (F == 0) acc[k] = _mm256_add_pd(acc[k], v);
#pragma GCC unroll 10
                        for (int f = 0; f < F; ++f) acc[f] = _mm256_fmadd_pd(w[f], v, acc[f]);
                    }
                }
    const double seconds = cpu_seconds() - start;
    for (int c = 1; c < 10; ++c) acc[0] = _mm256_add_pd(acc[0], acc[c]);
    double lanes[4];
    _mm256_storeu_pd(lanes, acc[0]);
    *sink += lanes[0] + lanes[1] + lanes[2] + lanes[3];
    return seconds;
}

int main() {
    const long n = 50016, values = n * kD;
    double* X = static_cast<double*>(aligned_alloc(1 << 21, values * sizeof(double)));
    madvise(X, values * sizeof(double), MADV_HUGEPAGE);
    for (long j = 0; j < values; ++j) X[j] = 1e-3 * (j % 7);
    double sink = 0.0;
    for (int round = 0; round < 3; ++round) {
        const double read = pass<0, 1>(X, n, kD, 0, &sink);
        double in_l2 = 0.0;  // the same arithmetic on one tile that stays in L2
        for (long t = 0; t < n / kTile; ++t) in_l2 += pass<10, 4>(X, kTile, 128, 0, &sink);
        const double tiles = pass<10, 4>(X, n, 128, 0, &sink);
        const double tiles_ahead = pass<10, 4>(X, n, 128, 512, &sink);
        const double columns_ahead = pass<10, 1>(X, n, kD, 512, &sink);
        auto overlap = [&](double t) { return 100.0 * (read + in_l2 - t) / (in_l2 < read ? in_l2 : read); };
        std::printf(
            "read %.0f ms, arithmetic in L2 %.0f ms | from memory: tiles %.0f ms (%.0f%% overlapped), tiles + prefetch "
            "%.0f ms (%.0f%%), column by column + prefetch %.0f ms (%.0f%%)\n",
            1e3 * read, 1e3 * in_l2, 1e3 * tiles, overlap(tiles), 1e3 * tiles_ahead, overlap(tiles_ahead),
            1e3 * columns_ahead, overlap(columns_ahead));
    }
    return sink == 42.0;  // keeps every sum alive
}
