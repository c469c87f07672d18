// cpu_features(), simd_path() and the choice of the kernel set at import.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>
#include <stdexcept>

#include "pybind11.hpp"
#include "steepest/cpu_dispatch.hpp"

namespace steepest {

namespace {
const KernelSet* g_active = nullptr;
SimdPath g_path = SimdPath::baseline;
}  // namespace

const KernelSet& active_kernels() { return *g_active; }
void set_active_kernels(const KernelSet* set) { g_active = set; }

namespace bind {

void bind_system(py::module_& m) {
    const CpuFeatures f = detect_cpu_features();
    const char* env = std::getenv("STEEPEST_SIMD");
    try {
        g_path = choose_path(f, env ? std::string(env) : std::string());
    } catch (const std::invalid_argument& e) {
        throw py::import_error(e.what());
    }
    switch (g_path) {
#ifndef STEEPEST_PORTABLE  // a portable build has the baseline kernels only (no x86 file compiled)
        case SimdPath::avx512: set_active_kernels(&kernel_set_avx512()); break;
        case SimdPath::avx2: set_active_kernels(&kernel_set_avx2()); break;
#endif
        default: set_active_kernels(&kernel_set_baseline()); break;
    }

    m.def(
        "cpu_features",
        [f]() {
            py::dict d;
            d["sse2"] = f.sse2;
            d["sse3"] = f.sse3;
            d["ssse3"] = f.ssse3;
            d["sse4_1"] = f.sse41;
            d["sse4_2"] = f.sse42;
            d["popcnt"] = f.popcnt;
            d["avx"] = f.avx;
            d["avx2"] = f.avx2;
            d["fma"] = f.fma;
            d["bmi2"] = f.bmi2;
            d["avx512f"] = f.avx512f;
            d["avx512dq"] = f.avx512dq;
            d["avx512cd"] = f.avx512cd;
            d["avx512bw"] = f.avx512bw;
            d["avx512vl"] = f.avx512vl;
            return d;
        },
        "The CPU features relevant to the SIMD paths, as detected at run time (dict of bools).");
    m.def(
        "simd_path", []() { return std::string(path_name(g_path)); },
        "The SIMD code path in use: 'baseline', 'avx2' or 'avx512' (STEEPEST_SIMD forces a lower one).");
    m.def(
        "supported_simd_paths",
        [f]() {
            py::list out;
            for (SimdPath p : {SimdPath::baseline, SimdPath::avx2, SimdPath::avx512})
                if (path_supported(p, f)) out.append(path_name(p));
            return out;
        },
        "The SIMD paths this CPU can run, lowest first.");
    m.def(
        "multiply_add_rate",
        [](int n_threads, double seconds) {
            n_threads = thread_count(n_threads);
            if (!(seconds > 0.0 && seconds <= 60.0))
                throw py::value_error("seconds must lie in (0, 60]; got " + std::to_string(seconds));
            const KernelSet& k = active_kernels();
            double sink = 0.0;
            // calibrate: how many rounds take about 1 ms on one thread
            i64 iters = 1 << 14;
            for (;;) {
                const auto t0 = std::chrono::steady_clock::now();
                k.multiply_add_probe(iters, &sink);
                const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                if (dt >= 1e-3 || iters >= (i64(1) << 40)) {
                    iters = std::max<i64>(1, static_cast<i64>(iters * 1e-3 / std::max(dt, 1e-9)));
                    break;
                }
                iters *= 4;
            }
            // many 1 ms blocks: every thread stays busy until the end, whoever takes which block
            const i64 nblocks = std::max<i64>(n_threads, static_cast<i64>(seconds * 1e3) * n_threads);
            std::vector<double> done(static_cast<std::size_t>(nblocks)), sinks(static_cast<std::size_t>(nblocks));
            const auto t0 = std::chrono::steady_clock::now();
            {
                py::gil_scoped_release release;
                ThreadPool::instance().parallel_for(nblocks, n_threads, [&](i64 b) {
                    done[b] = k.multiply_add_probe(iters, &sinks[b]);
                });
            }
            const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            double total = 0.0;
            for (double d : done) total += d;
            return total / dt;
        },
        py::arg("n_threads"), py::arg("seconds") = 0.2,
        "Peak float64 multiply-adds per second on the active SIMD path with n_threads threads, measured\n"
        "on registers only (no memory traffic): the compute floor of a kernel is its multiply-adds / rate.");
    m.def(
        "pool_size", []() { return ThreadPool::instance().size(); },
        "Number of worker threads the persistent pool has started so far.");
    m.attr("block_size") = kTile;
}

}  // namespace bind
}  // namespace steepest
