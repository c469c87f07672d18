// Run-time choice of the SIMD code path.
//
// The distributed module is compiled for baseline x86-64 plus two extra translation units built
// with AVX2+FMA and AVX-512 flags. At import the best path the CPU (and the OS, via XSAVE state)
// supports is chosen; STEEPEST_SIMD=baseline|avx2|avx512 forces a lower path for testing, never one
// the CPU lacks. A portable build (STEEPEST_PORTABLE: plain C++ kernels, no x86 file) has the
// baseline path only, on any CPU.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace steepest {

enum class SimdPath { baseline = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
    bool sse2 = false, sse3 = false, ssse3 = false, sse41 = false, sse42 = false, popcnt = false;
    bool avx = false, avx2 = false, fma = false, bmi2 = false;
    bool avx512f = false, avx512dq = false, avx512cd = false, avx512bw = false, avx512vl = false;
};

inline CpuFeatures detect_cpu_features() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // libgcc's cpu model also checks the OS-enabled XSAVE state for the AVX and AVX-512 bits.
    f.sse2 = __builtin_cpu_supports("sse2");
    f.sse3 = __builtin_cpu_supports("sse3");
    f.ssse3 = __builtin_cpu_supports("ssse3");
    f.sse41 = __builtin_cpu_supports("sse4.1");
    f.sse42 = __builtin_cpu_supports("sse4.2");
    f.popcnt = __builtin_cpu_supports("popcnt");
    f.avx = __builtin_cpu_supports("avx");
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.bmi2 = __builtin_cpu_supports("bmi2");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    f.avx512cd = __builtin_cpu_supports("avx512cd");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
#endif
    return f;
}

inline bool path_supported(SimdPath p, const CpuFeatures& f) {
#ifdef STEEPEST_PORTABLE
    if (p != SimdPath::baseline) return false;
#endif
    switch (p) {
        case SimdPath::avx512:
            return f.avx512f && f.avx512dq && f.avx512vl && f.avx512bw && f.avx2 && f.fma;
        case SimdPath::avx2:
            return f.avx2 && f.fma && f.avx;
        case SimdPath::baseline:
            return true;
    }
    return false;
}

inline const char* path_name(SimdPath p) {
    switch (p) {
        case SimdPath::avx512:
            return "avx512";
        case SimdPath::avx2:
            return "avx2";
        case SimdPath::baseline:
            return "baseline";
    }
    return "baseline";
}

inline SimdPath best_path(const CpuFeatures& f) {
    if (path_supported(SimdPath::avx512, f)) return SimdPath::avx512;
    if (path_supported(SimdPath::avx2, f)) return SimdPath::avx2;
    return SimdPath::baseline;
}

// The path to use: the best supported one, or the one named by `request` (the value of
// STEEPEST_SIMD; empty or "auto" = best). A requested path the CPU lacks falls back to the best
// supported path below it. An unknown name throws std::invalid_argument.
inline SimdPath choose_path(const CpuFeatures& f, const std::string& request) {
    SimdPath best = best_path(f);
    if (request.empty() || request == "auto") return best;
    SimdPath want;
    if (request == "baseline") {
        want = SimdPath::baseline;
    } else if (request == "avx2") {
        want = SimdPath::avx2;
    } else if (request == "avx512") {
        want = SimdPath::avx512;
    } else {
        throw std::invalid_argument("STEEPEST_SIMD must be one of auto, baseline, avx2, avx512; got '" + request +
                                    "'");
    }
    return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

}  // namespace steepest
