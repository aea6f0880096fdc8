// scheduler.h: the dynamic batcher between every interface and the model.
//
// What it does: interfaces submit token sequences (already extracted and
// tokenized on the preparation pool); one thread per backend replica takes
// them from one bounded queue in batches of at most max_batch sequences,
// waiting at most max_wait after the oldest queued sequence arrived for a
// batch to fill, runs the backend on the batch and hands each submitter its
// calibrated probability.
// Promises: every submitted job is completed exactly once, by the scheduler
// or by its owner (ScoreJob::claim decides the race between the two): with a
// probability, or with `deadline` when its deadline passed before its batch
// ran, or `backend_error` when the backend threw, or `shutdown` never (stop()
// runs the queued jobs first). A full queue is refused at submit() so the
// caller can apply its policy at once. Completion callbacks run on a
// scheduler thread and must be short (post elsewhere).
// Failure: backend exceptions (model::BackendError or any std::exception) are
// caught and turned into `backend_error` outcomes; the scheduler goes on
// with the next batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/backend.h"
#include "model/model.h"

namespace sf::service {

class Metrics;

using Clock = std::chrono::steady_clock;

struct SchedulerOptions {
  size_t max_batch = 32;
  std::chrono::microseconds max_wait{2000};
  size_t queue_capacity = 1024;
};

enum class ScoreStatus { ok, deadline, backend_error };

struct ScoreOutcome {
  ScoreStatus status = ScoreStatus::ok;
  float probability = -1;
  std::string error;      // backend_error: what the backend said
  double queue_ms = 0;    // submit -> batch start
  double model_ms = 0;    // the backend call
  size_t batch_size = 0;  // sequences in that call
};

struct ScoreJob {
  std::vector<int32_t> ids;  // [CLS] ... [SEP]
  Clock::time_point deadline = Clock::time_point::max();
  std::function<void(const ScoreOutcome&)> done;
  // Exactly one party completes a job; whoever claims it first.
  bool claim() { return !taken_.exchange(true); }
  bool claimed() const { return taken_.load(); }

  Clock::time_point enqueued{};  // set by submit()

 private:
  std::atomic<bool> taken_{false};
};

class Scheduler {
 public:
  // One thread per replica; every replica must have been load()ed with the
  // same model (config gives num_labels and the calibration).
  Scheduler(std::vector<std::shared_ptr<model::Backend>> replicas, model::Config config,
            SchedulerOptions options, Metrics* metrics = nullptr);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  enum class Submit { queued, queue_full, stopped };
  // Never blocks. On anything but `queued` the job is untouched (not claimed).
  Submit submit(std::shared_ptr<ScoreJob> job);
  // Takes effect from the next batch.
  void set_options(SchedulerOptions options);
  SchedulerOptions options() const;
  // Refuses new jobs, runs the queued ones, joins the threads. Idempotent.
  void stop();

  size_t queue_depth() const;
  uint64_t backend_calls() const { return calls_.load(); }
  uint64_t sequences_scored() const { return scored_.load(); }

 private:
  void run(size_t replica);
  void run_batch(model::Backend& backend, std::vector<std::shared_ptr<ScoreJob>>& jobs);

  std::vector<std::shared_ptr<model::Backend>> replicas_;
  model::Config config_;
  Metrics* metrics_;
  size_t backend_max_batch_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<ScoreJob>> queue_;
  SchedulerOptions options_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> calls_{0}, scored_{0};
};

}  // namespace sf::service
