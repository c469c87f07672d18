// A persistent std::thread pool with a deterministic parallel-for.
//
// parallel_for(nblocks, n_threads, fn, should_stop) runs fn(b) for every block b in [0, nblocks)
// on at most n_threads threads: the calling thread and up to n_threads - 1 pool workers. Which
// thread runs which block varies; callers make results independent of that by giving every block
// its own output and combining outputs in block order. The calling thread computes too (a small
// job costs no hand-off, and n_threads = 1 runs inline), and every `poll` interval (<= 50 ms) it
// calls should_stop(): between its blocks, inside long blocks that check block_cancelled(), and
// while it waits for the workers. When should_stop() returns true the job's cancel flag is set,
// every thread stops taking new blocks (long blocks stop early at their next block_cancelled()),
// the caller waits for the workers and parallel_for returns false. Several threads may submit jobs
// at once; jobs are served in submission order.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "steepest/portable.hpp"

namespace steepest {

// The cancel flag of the job whose block this thread is running (nullptr outside a job).
inline const std::atomic<bool>*& current_cancel_flag() {
    static thread_local const std::atomic<bool>* flag = nullptr;
    return flag;
}

// On the thread that submitted a job (and computes blocks of it): polls should_stop() at most
// once per interval and sets the job's cancel flag when it says stop.
class StopPoller {
  public:
    using Clock = std::chrono::steady_clock;
    StopPoller(const std::function<bool()>& stop, std::atomic<bool>& cancel, std::chrono::milliseconds every)
        : stop_(stop), cancel_(cancel), every_(every), last_(Clock::now()) {}
    void maybe_poll() {
        if (!stop_ || stopped_) return;
        const Clock::time_point now = Clock::now();
        if (now - last_ < every_) return;
        last_ = now;
        if (stop_()) {
            stopped_ = true;
            cancel_.store(true, std::memory_order_relaxed);
        }
    }
    bool stopped() const { return stopped_; }

  private:
    const std::function<bool()>& stop_;
    std::atomic<bool>& cancel_;
    const std::chrono::milliseconds every_;
    Clock::time_point last_;
    bool stopped_ = false;
};
inline StopPoller*& current_stop_poller() {
    static thread_local StopPoller* poller = nullptr;
    return poller;
}

// True while the block being run belongs to a job that was cancelled: long blocks may poll it
// to stop early (their partial results are discarded). On the submitting thread it also gives
// should_stop() its turn.
inline bool block_cancelled() {
    const std::atomic<bool>* f = current_cancel_flag();
    if (f == nullptr) return false;
    if (StopPoller* p = current_stop_poller()) p->maybe_poll();
    return f->load(std::memory_order_relaxed);
}

class ThreadPool {
  public:
    using BlockFn = std::function<void(std::int64_t)>;
    using StopFn = std::function<bool()>;

    static constexpr int kMaxThreads = 256;

    // The process-wide pool. After fork() the child gets a fresh pool (the parent's workers do
    // not exist there); the old object is deliberately leaked.
    static ThreadPool& instance() {
        static std::mutex guard;
        static ThreadPool* pool = nullptr;
        std::lock_guard<std::mutex> lock(guard);
        if (pool == nullptr || pool->pid_ != process_id()) pool = new ThreadPool();  // intentionally leaked
        return *pool;
    }

    // Returns true when every block ran, false when should_stop() asked to stop.
    // An exception thrown by fn cancels the job and is rethrown here.
    bool parallel_for(std::int64_t nblocks, int n_threads, const BlockFn& fn,
                      const StopFn& should_stop = StopFn(),
                      std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
        if (nblocks <= 0) return true;
        n_threads = std::max(1, std::min(n_threads, kMaxThreads));
        if (nblocks == 1) {  // nothing to share: run inline, no hand-off latency
            fn(0);
            return true;
        }
        Job job;
        job.fn = &fn;
        job.nblocks = nblocks;
        job.max_workers = static_cast<int>(std::min<std::int64_t>(n_threads, nblocks)) - 1;  // + this thread
        if (job.max_workers > 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            grow(job.max_workers);
            queue_.push_back(&job);
            posted_.fetch_add(1, std::memory_order_release);
            work_cv_.notify_all();
        }
        StopPoller poller(should_stop, job.cancel, poll);
        take_blocks(job, &poller);
        if (job.max_workers > 0)  // the workers' last blocks usually end within microseconds
            spin_until([&] { return finished(job); });
        std::unique_lock<std::mutex> lock(mutex_);
        while (!finished(job)) {  // the workers finish the blocks they took
            if (!should_stop || poller.stopped()) {
                job.done_cv.wait(lock);
                continue;
            }
            job.done_cv.wait_for(lock, poll);
            if (finished(job)) break;
            lock.unlock();
            poller.maybe_poll();
            lock.lock();
        }
        remove(&job);
        lock.unlock();
        if (job.error) std::rethrow_exception(job.error);
        return !poller.stopped();
    }

    int size() {
        std::lock_guard<std::mutex> lock(mutex_);
        return static_cast<int>(workers_.size());
    }

  private:
    struct Job {
        const BlockFn* fn = nullptr;
        std::int64_t nblocks = 0;
        std::atomic<std::int64_t> next{0};
        std::atomic<bool> cancel{false};
        int max_workers = 1;
        std::atomic<int> active{0};  // changed with the pool mutex held; read without it while spinning
        std::exception_ptr error;
        std::condition_variable done_cv;
    };

    ThreadPool() : pid_(process_id()) {}

    static bool exhausted(const Job& job) {
        return job.cancel.load(std::memory_order_relaxed) ||
               job.next.load(std::memory_order_relaxed) >= job.nblocks;
    }
    static bool finished(const Job& job) { return exhausted(job) && job.active == 0; }

    void remove(Job* job) {
        auto it = std::find(queue_.begin(), queue_.end(), job);
        if (it != queue_.end()) queue_.erase(it);
    }

    Job* find_job() {
        for (Job* job : queue_)
            if (!exhausted(*job) && job->active < job->max_workers) return job;
        return nullptr;
    }

    // Runs blocks of `job` on this thread until none is left or the job is cancelled. The
    // submitting thread passes its poller: should_stop() gets its turn between blocks, and inside
    // long blocks through block_cancelled().
    void take_blocks(Job& job, StopPoller* poller = nullptr) {
        const std::atomic<bool>* outer_flag = current_cancel_flag();  // a job may run inside a block
        StopPoller* outer_poller = current_stop_poller();
        current_cancel_flag() = &job.cancel;
        current_stop_poller() = poller;
        for (;;) {
            if (poller != nullptr) poller->maybe_poll();
            if (job.cancel.load(std::memory_order_relaxed)) break;
            std::int64_t b = job.next.fetch_add(1, std::memory_order_relaxed);
            if (b >= job.nblocks) break;
            try {
                (*job.fn)(b);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!job.error) job.error = std::current_exception();
                job.cancel.store(true, std::memory_order_relaxed);
            }
        }
        current_cancel_flag() = outer_flag;
        current_stop_poller() = outer_poller;
    }

    void grow(int n) {  // with mutex_ held
        while (static_cast<int>(workers_.size()) < n) {
            workers_.emplace_back([this] { worker_loop(); });
            workers_.back().detach();  // the pool lives for the whole process
        }
    }

    // Waits awake until ready() or for at most kSpin; returns ready(). Waking a sleeping thread costs
    // tens of microseconds (a system call; on a virtual machine an interrupt to another virtual CPU),
    // as much as a whole share of a small mini-batch step, and a training loop calls again within
    // about 0.1 ms. Each turn yields the core: on a busy machine whoever waits for it runs instead.
    static constexpr std::chrono::microseconds kSpin{500};
    template <class Ready>
    static bool spin_until(Ready&& ready) {
        const auto until = std::chrono::steady_clock::now() + kSpin;
        for (int i = 0;; ++i) {
            if (ready()) return true;
            std::this_thread::yield();
            if ((i & 15) == 15 && std::chrono::steady_clock::now() >= until) return ready();
        }
    }

    void worker_loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            Job* job = nullptr;
            if ((job = find_job()) == nullptr) {  // wait awake for a while: the next job often follows at once
                const std::uint64_t seen = posted_.load(std::memory_order_acquire);
                lock.unlock();
                spin_until([&] { return posted_.load(std::memory_order_acquire) != seen; });
                lock.lock();
            }
            work_cv_.wait(lock, [&] { return (job = find_job()) != nullptr; });
            ++job->active;
            lock.unlock();
            take_blocks(*job);
            lock.lock();
            --job->active;
            if (exhausted(*job)) {
                remove(job);
                if (job->active == 0) job->done_cv.notify_all();
            }
        }
    }

    const long pid_;
    std::mutex mutex_;
    std::condition_variable work_cv_;
    std::atomic<std::uint64_t> posted_{0};  // jobs submitted so far: what a spinning worker watches
    std::deque<Job*> queue_;
    std::vector<std::thread> workers_;
};

}  // namespace steepest
