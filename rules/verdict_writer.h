// verdict_writer.h: writes the verdict log off the hot path. submit() only
// queues; one background thread writes batches (every batch_size verdicts or
// every flush_interval, whichever comes first) through its own connection,
// and prunes verdicts older than the retention period.
//
// Promises: submit() never blocks on the database and never waits for a
// batch; when the bounded queue is full the verdict is dropped and counted
// (mail is never held up by logging). flush() returns once everything
// submitted before it is written (or failed). The destructor drains the queue.
// Failure: the constructor throws StoreError if the database cannot be
// opened; write errors later are counted in stats() (failed, last_error) and
// the writer keeps going.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "rules/store.h"
#include "rules/verdict.h"

namespace sf::rules {

struct VerdictWriterOptions {
  size_t queue_capacity = 65536;
  size_t batch_size = 512;
  std::chrono::milliseconds flush_interval{200};
  std::chrono::hours retention{24 * 30};  // 0: keep forever
  std::chrono::milliseconds prune_interval{std::chrono::minutes(10)};
  StoreOptions store;
};

struct VerdictWriterStats {
  uint64_t submitted = 0;
  uint64_t written = 0;
  uint64_t dropped = 0;  // queue full
  uint64_t failed = 0;   // lost to write errors
  uint64_t batches = 0;
  uint64_t pruned = 0;
  uint64_t queued = 0;  // waiting now (not yet taken by the writer)
  std::string last_error;
};

class VerdictWriter {
 public:
  VerdictWriter(const std::string& db_path, VerdictWriterOptions options = {});
  ~VerdictWriter();
  VerdictWriter(const VerdictWriter&) = delete;
  VerdictWriter& operator=(const VerdictWriter&) = delete;

  bool submit(Verdict v);  // false: dropped (queue full or stopping)
  void flush();
  // Prunes now (the thread also prunes every prune_interval); rows removed.
  int64_t prune_now();
  VerdictWriterStats stats() const;

 private:
  void run();
  void write(std::vector<Verdict>& batch);
  void maybe_prune(bool force);

  VerdictWriterOptions opt_;
  Store store_;
  mutable std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<Verdict> queue_;
  bool stop_ = false;
  uint64_t enqueued_ = 0;  // sequence numbers for flush()
  uint64_t finished_ = 0;
  uint64_t flush_upto_ = 0;
  VerdictWriterStats stats_;
  std::chrono::steady_clock::time_point last_prune_{};
  std::thread thread_;
};

}  // namespace sf::rules
