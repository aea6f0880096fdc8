// verdict_writer.cpp: see verdict_writer.h.
#include "rules/verdict_writer.h"

#include <algorithm>

namespace sf::rules {

VerdictWriter::VerdictWriter(const std::string& db_path, VerdictWriterOptions options)
    : opt_(options), store_(db_path, options.store) {
  opt_.batch_size = std::max<size_t>(1, std::min(opt_.batch_size, opt_.queue_capacity));
  thread_ = std::thread([this] { run(); });
}

VerdictWriter::~VerdictWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool VerdictWriter::submit(Verdict v) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    ++stats_.submitted;
    if (stop_ || queue_.size() >= opt_.queue_capacity) {
      ++stats_.dropped;
      return false;
    }
    queue_.push_back(std::move(v));
    ++enqueued_;
    // The writer sleeps without a timer while the queue is empty, and with
    // one until a batch is full.
    wake = queue_.size() == 1 || queue_.size() >= opt_.batch_size;
  }
  if (wake) wake_.notify_one();
  return true;
}

void VerdictWriter::flush() {
  std::unique_lock lock(mu_);
  uint64_t target = enqueued_;
  flush_upto_ = std::max(flush_upto_, target);
  wake_.notify_one();
  done_.wait(lock, [&] { return finished_ >= target; });
}

int64_t VerdictWriter::prune_now() {
  if (opt_.retention.count() == 0) return 0;
  int64_t cutoff =
      now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(opt_.retention).count();
  int64_t n = store_.prune_verdicts(cutoff);
  std::lock_guard lock(mu_);
  stats_.pruned += static_cast<uint64_t>(n);
  return n;
}

VerdictWriterStats VerdictWriter::stats() const {
  std::lock_guard lock(mu_);
  VerdictWriterStats s = stats_;
  s.queued = queue_.size();
  return s;
}

void VerdictWriter::write(std::vector<Verdict>& batch) {
  std::string error;
  try {
    store_.add_verdicts(batch);
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::lock_guard lock(mu_);
  ++stats_.batches;
  if (error.empty()) {
    stats_.written += batch.size();
  } else {
    stats_.failed += batch.size();
    stats_.last_error = error;
  }
  finished_ += batch.size();
  batch.clear();
}

void VerdictWriter::maybe_prune(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_prune_ < opt_.prune_interval) return;
  last_prune_ = now;
  try {
    prune_now();
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    stats_.last_error = e.what();
  }
}

void VerdictWriter::run() {
  maybe_prune(true);
  std::vector<Verdict> batch;
  std::unique_lock lock(mu_);
  while (true) {
    // Wait for a full batch, a flush() of queued verdicts, the interval
    // since the writer saw the first queued verdict, or stop.
    auto urgent = [&] {
      return stop_ || queue_.size() >= opt_.batch_size || flush_upto_ > finished_;
    };
    if (queue_.empty()) {
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    }
    if (!urgent()) wake_.wait_for(lock, opt_.flush_interval, urgent);
    if (queue_.empty() && stop_) break;
    size_t n = std::min(queue_.size(), opt_.batch_size);
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    if (!batch.empty()) write(batch);
    maybe_prune(false);
    done_.notify_all();
    lock.lock();
  }
  lock.unlock();
  done_.notify_all();
}

}  // namespace sf::rules
