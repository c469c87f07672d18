// The few things the core needs from the platform, behind one small layer, so the same sources build
// with GCC, Clang and MSVC on Linux (x86-64, aarch64), macOS and Windows.
//
// STEEPEST_PREFETCH(p): a hint to bring the cache line at p into L2 (a no-op where the compiler has
// no prefetch builtin); process_id(): the current process, to notice a fork().
#pragma once

#if defined(_WIN32)
#include <process.h>
#else
#include <unistd.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
// read, moderate temporal locality: the x86 `prefetcht1` (into L2), `prfm pldl2keep` on aarch64
#define STEEPEST_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define STEEPEST_PREFETCH(p) _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T1)
#else
#define STEEPEST_PREFETCH(p) ((void)(p))
#endif

namespace steepest {

inline long process_id() {
#if defined(_WIN32)
    return static_cast<long>(::_getpid());
#else
    return static_cast<long>(::getpid());
#endif
}

}  // namespace steepest
