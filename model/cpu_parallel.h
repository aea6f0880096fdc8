// cpu_parallel.h: a small fork-join worker group for the CPU encoder's non-BLAS work
// (attention, LayerNorm, GELU, bias fills).
//
// What it does: `WorkerGroup g(n)` lends the calling thread plus n - 1 helper threads
// to `g.run(items, fn)`, which calls fn(item, worker) once for every item in
// [0, items), handing items out dynamically (an atomic counter), and returns when all
// are done. Helpers are started on the first run() that has more than one item and are
// joined by the destructor, so one group lives for one encoder call and is never shared
// between threads.
// Promises: every item runs exactly once; `worker` is in [0, n) and no two concurrent
// calls of fn share a worker id (so per-worker scratch needs no locks); run() returns
// only after every item has finished.
// Failure: an exception thrown by fn is caught, the remaining items are skipped and the
// first exception is rethrown from run() on the calling thread. Failing to start a
// thread (std::system_error) degrades to fewer helpers instead of failing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace sf::model {

class WorkerGroup {
 public:
  using Fn = std::function<void(size_t item, int worker)>;

  explicit WorkerGroup(int threads) : threads_(threads < 1 ? 1 : threads) {}
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;
  ~WorkerGroup() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : helpers_) t.join();
  }

  int threads() const { return threads_; }

  void run(size_t items, const Fn& fn) {
    if (items == 0) return;
    if (threads_ == 1 || items == 1) {
      for (size_t i = 0; i < items; ++i) fn(i, 0);
      return;
    }
    start_helpers();
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      items_ = items;
      next_.store(0, std::memory_order_relaxed);
      error_ = nullptr;
      busy_ = static_cast<int>(helpers_.size());
      ++generation_;
    }
    wake_.notify_all();
    work(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return busy_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void start_helpers() {
    if (!helpers_.empty() || threads_ == 1) return;
    for (int w = 1; w < threads_; ++w) {
      try {
        helpers_.emplace_back([this, w] { helper_loop(w); });
      } catch (const std::system_error&) {
        break;  // fewer helpers; the items still all run
      }
    }
  }

  void helper_loop(int worker) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work(worker);
      {
        std::lock_guard<std::mutex> lock(mu_);
        --busy_;
      }
      done_.notify_one();
    }
  }

  void work(int worker) {
    for (;;) {
      size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= items_) return;
      try {
        (*fn_)(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
        next_.store(items_, std::memory_order_relaxed);  // skip what is left
      }
    }
  }

  const int threads_;
  std::vector<std::thread> helpers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const Fn* fn_ = nullptr;
  size_t items_ = 0;
  std::atomic<size_t> next_{0};
  std::exception_ptr error_;
  int busy_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace sf::model
