// A persistent std::thread pool with a deterministic parallel-for.
//
// parallel_for(nblocks, n_threads, fn, should_stop) runs fn(b) for every block b in [0, nblocks)
// on at most n_threads workers. Which worker runs which block varies; callers make results
// independent of that by giving every block its own output and combining outputs in block order.
// The calling thread does not compute: it waits, and every `poll` interval (<= 50 ms) calls
// should_stop(); when that returns true the job's cancel flag is set, workers stop taking new
// blocks (each finishes the block it is on), the caller waits for them and parallel_for returns
// false. Several threads may submit jobs at once; jobs are served in submission order.
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

#include <unistd.h>

namespace steepest {

// True while the block being run belongs to a job that was cancelled: long blocks may poll it
// to stop early (their partial results are discarded).
inline const std::atomic<bool>*& current_cancel_flag() {
    static thread_local const std::atomic<bool>* flag = nullptr;
    return flag;
}
inline bool block_cancelled() {
    const std::atomic<bool>* f = current_cancel_flag();
    return f != nullptr && f->load(std::memory_order_relaxed);
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
        if (pool == nullptr || pool->pid_ != ::getpid()) pool = new ThreadPool();  // intentionally leaked
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
        job.max_workers = static_cast<int>(std::min<std::int64_t>(n_threads, nblocks));
        std::unique_lock<std::mutex> lock(mutex_);
        grow(job.max_workers);
        queue_.push_back(&job);
        work_cv_.notify_all();
        bool polling = static_cast<bool>(should_stop);
        bool stopped = false;
        while (!finished(job)) {
            if (!polling) {
                job.done_cv.wait(lock);
                continue;
            }
            job.done_cv.wait_for(lock, poll);
            if (finished(job)) break;
            lock.unlock();
            bool stop = should_stop();
            lock.lock();
            if (stop) {
                job.cancel.store(true, std::memory_order_relaxed);
                stopped = true;
                polling = false;
            }
        }
        remove(&job);
        lock.unlock();
        if (job.error) std::rethrow_exception(job.error);
        return !stopped;
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
        int active = 0;  // guarded by the pool mutex
        std::exception_ptr error;
        std::condition_variable done_cv;
    };

    ThreadPool() : pid_(::getpid()) {}

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

    void grow(int n) {  // with mutex_ held
        while (static_cast<int>(workers_.size()) < n) {
            workers_.emplace_back([this] { worker_loop(); });
            workers_.back().detach();  // the pool lives for the whole process
        }
    }

    void worker_loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            Job* job = nullptr;
            work_cv_.wait(lock, [&] { return (job = find_job()) != nullptr; });
            ++job->active;
            lock.unlock();
            current_cancel_flag() = &job->cancel;
            for (;;) {
                if (job->cancel.load(std::memory_order_relaxed)) break;
                std::int64_t b = job->next.fetch_add(1, std::memory_order_relaxed);
                if (b >= job->nblocks) break;
                try {
                    (*job->fn)(b);
                } catch (...) {
                    lock.lock();
                    if (!job->error) job->error = std::current_exception();
                    lock.unlock();
                    job->cancel.store(true, std::memory_order_relaxed);
                }
            }
            current_cancel_flag() = nullptr;
            lock.lock();
            --job->active;
            if (exhausted(*job)) {
                remove(job);
                if (job->active == 0) job->done_cv.notify_all();
            }
        }
    }

    const pid_t pid_;
    std::mutex mutex_;
    std::condition_variable work_cv_;
    std::deque<Job*> queue_;
    std::vector<std::thread> workers_;
};

}  // namespace steepest
