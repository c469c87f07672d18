// The few things the core needs from the platform, behind one small layer, so the same sources build
// with GCC, Clang and MSVC on Linux (x86-64, aarch64), macOS and Windows.
//
// process_id(): the current process, to notice a fork().
#pragma once

#if defined(_WIN32)
#include <process.h>
#else
#include <unistd.h>
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
