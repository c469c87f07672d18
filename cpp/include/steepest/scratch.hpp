// Scratch buffers that are reused across calls on the same thread.
//
// A mini-batch loop calls the kernels thousands of times, each call needing the same few
// hundred-kilobyte buffers (gradient partials, a gathered tile). Fresh allocations of that size
// come from mmap and cost a page fault per 4 KiB every call; a small per-thread cache of freed
// buffers makes them free after the first step. Contents are NOT zeroed.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace steepest {

class ScratchCache {
  public:
    static constexpr std::size_t kMaxKeptBytes = std::size_t(16) << 20;  // per buffer
    static constexpr std::size_t kMaxKept = 6;                           // buffers per thread

    static ScratchCache& here() {
        static thread_local ScratchCache cache;
        return cache;
    }
    // A buffer of at least `bytes` (64-byte aligned); *capacity receives its real size.
    void* take(std::size_t bytes, std::size_t* capacity) {
        std::size_t best = free_.size();
        for (std::size_t k = 0; k < free_.size(); ++k)  // the smallest cached buffer that fits
            if (free_[k].second >= bytes && (best == free_.size() || free_[k].second < free_[best].second))
                best = k;
        if (best != free_.size()) {
            std::pair<void*, std::size_t> b = free_[best];
            free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
            *capacity = b.second;
            return b.first;
        }
        const std::size_t rounded = (bytes + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
        if (p == nullptr) throw std::bad_alloc();
        *capacity = rounded;
        return p;
    }
    void give_back(void* p, std::size_t capacity) {
        if (capacity > kMaxKeptBytes) return std::free(p);
        if (free_.size() == kMaxKept) {  // drop the smallest: big buffers are the costly ones
            std::size_t smallest = 0;
            for (std::size_t k = 1; k < free_.size(); ++k)
                if (free_[k].second < free_[smallest].second) smallest = k;
            if (free_[smallest].second >= capacity) return std::free(p);
            std::free(free_[smallest].first);
            free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(smallest));
        }
        free_.emplace_back(p, capacity);
    }
    ~ScratchCache() {
        for (auto& b : free_) std::free(b.first);
    }

  private:
    std::vector<std::pair<void*, std::size_t>> free_;
};

// n values of T from the calling thread's cache, returned to it on destruction.
template <class T>
class Scratch {
  public:
    Scratch() = default;
    explicit Scratch(std::size_t n) { reset(n); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { release(); }
    void reset(std::size_t n) {
        release();
        p_ = static_cast<T*>(ScratchCache::here().take(n * sizeof(T), &capacity_));
    }
    T* get() const { return p_; }
    T& operator[](std::size_t k) const { return p_[k]; }

  private:
    void release() {
        if (p_ != nullptr) ScratchCache::here().give_back(p_, capacity_);
        p_ = nullptr;
    }
    T* p_ = nullptr;
    std::size_t capacity_ = 0;
};

}  // namespace steepest
