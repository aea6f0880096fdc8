// scheduler.cpp: see scheduler.h.
#include "service/scheduler.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "service/serve_metrics.h"

namespace sf::service {
namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Scheduler::Scheduler(std::vector<std::shared_ptr<model::Backend>> replicas, model::Config config,
                     SchedulerOptions options, Metrics* metrics)
    : replicas_(std::move(replicas)),
      config_(std::move(config)),
      metrics_(metrics),
      options_(options) {
  if (replicas_.empty()) throw std::invalid_argument("Scheduler: no backend replica");
  for (const auto& r : replicas_) {
    size_t m = r->capabilities().max_batch;
    if (m > 0) backend_max_batch_ = backend_max_batch_ == 0 ? m : std::min(backend_max_batch_, m);
  }
  for (size_t i = 0; i < replicas_.size(); ++i) threads_.emplace_back([this, i] { run(i); });
}

Scheduler::~Scheduler() { stop(); }

Scheduler::Submit Scheduler::submit(std::shared_ptr<ScoreJob> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Submit::stopped;
    if (queue_.size() >= options_.queue_capacity) return Submit::queue_full;
    job->enqueued = Clock::now();
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return Submit::queued;
}

void Scheduler::set_options(SchedulerOptions options) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = options;
  }
  cv_.notify_all();
}

SchedulerOptions Scheduler::options() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_;
}

size_t Scheduler::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Scheduler::run(size_t replica) {
  model::Backend& backend = *replicas_[replica];
  std::vector<std::shared_ptr<ScoreJob>> batch, expired;
  for (;;) {
    batch.clear();
    expired.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      // The batch window: until it is full or the oldest job has waited max_wait.
      for (;;) {
        if (queue_.empty()) break;  // another replica took them
        size_t max_batch = std::max<size_t>(1, options_.max_batch);
        if (backend_max_batch_ > 0) max_batch = std::min(max_batch, backend_max_batch_);
        const auto until = queue_.front()->enqueued + options_.max_wait;
        if (stopping_ || queue_.size() >= max_batch || Clock::now() >= until) break;
        cv_.wait_until(lock, until);
      }
      if (queue_.empty()) continue;
      size_t max_batch = std::max<size_t>(1, options_.max_batch);
      if (backend_max_batch_ > 0) max_batch = std::min(max_batch, backend_max_batch_);
      const auto now = Clock::now();
      while (!queue_.empty() && batch.size() < max_batch) {
        auto job = std::move(queue_.front());
        queue_.pop_front();
        if (job->claimed()) continue;  // its owner already answered it (deadline)
        if (now >= job->deadline) {
          expired.push_back(std::move(job));
          continue;
        }
        batch.push_back(std::move(job));
      }
    }
    const auto now = Clock::now();
    for (auto& job : expired) {
      if (!job->claim()) continue;
      ScoreOutcome o;
      o.status = ScoreStatus::deadline;
      o.queue_ms = ms_between(job->enqueued, now);
      job->done(o);
    }
    if (!batch.empty()) run_batch(backend, batch);
  }
}

void Scheduler::run_batch(model::Backend& backend, std::vector<std::shared_ptr<ScoreJob>>& jobs) {
  model::Batch batch;
  for (const auto& j : jobs) batch.add(j->ids);
  const size_t labels = static_cast<size_t>(std::max(1, config_.num_labels));
  std::vector<float> logits(jobs.size() * labels, 0.0f);
  const auto start = Clock::now();
  std::string error;
  try {
    backend.encode(batch, logits);
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "backend failed";
  } catch (...) {
    error = "backend failed (unknown exception)";
  }
  const auto end = Clock::now();
  calls_.fetch_add(1);
  if (metrics_) metrics_->observe_batch(jobs.size());
  const double model_ms = ms_between(start, end);
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& job = jobs[i];
    if (!job->claim()) continue;  // the owner gave up waiting (deadline)
    ScoreOutcome o;
    o.queue_ms = ms_between(job->enqueued, start);
    o.model_ms = model_ms;
    o.batch_size = jobs.size();
    if (!error.empty()) {
      o.status = ScoreStatus::backend_error;
      o.error = error;
    } else {
      o.probability = model::spam_probability(
          config_, std::span<const float>(logits.data() + i * labels, labels));
      scored_.fetch_add(1);
    }
    job->done(o);
  }
}

}  // namespace sf::service
