// The few things the core needs from the platform, behind one small layer, so the same sources build
// with GCC, Clang and MSVC on Linux (x86-64, aarch64), macOS and Windows.
//
// process_id(): the current process, to notice a fork().
// prefetch(p): a hint to fetch the line holding *p into cache; nothing where no hint exists.
#pragma once

#if defined(_WIN32)
#include <process.h>
#else
#include <unistd.h>
#endif
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#endif

namespace steepest {

inline long process_id() {
#if defined(_WIN32)
    return static_cast<long>(::_getpid());
#else
    return static_cast<long>(::getpid());
#endif
}

inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
    (void)p;
#endif
}

}  // namespace steepest
