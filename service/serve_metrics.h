// serve_metrics.h: the daemon's counters and histograms, rendered in the
// Prometheus text exposition format (GET /metrics).
//
// What it does: counts requests and outcomes per interface, unscored
// messages per reason, limit hits, open connections; keeps histograms of scan
// latency (per interface) and of the batch sizes the scheduler ran; reports
// the queue depth and the backend in use.
// Promises: every method is thread-safe and cheap (a mutex held for a map
// update); render() output is valid Prometheus text format 0.0.4.
// Failure: none.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sf::service {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  // Appends `name_bucket{labels,le=...}`, `name_sum`, `name_count` lines.
  void render(std::string& out, const std::string& name, const std::string& labels) const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // bounds_.size() + 1 (the last is +Inf)
  double sum_ = 0;
  uint64_t total_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(std::string_view interface, std::string_view outcome);
  void observe_latency(std::string_view interface, double seconds);
  void observe_batch(size_t sequences);
  void count_unchecked(std::string_view reason);
  void count_limit(std::string_view limit);
  void count_protocol_error(std::string_view interface);
  void connection_opened(std::string_view interface);
  void connection_closed(std::string_view interface);
  void set_queue_depth_source(std::function<size_t()> f);
  void set_backend(const std::string& name, const std::string& device, const std::string& model);
  void set_ready(bool ready) { ready_ = ready; }

  uint64_t requests(std::string_view interface, std::string_view outcome) const;
  uint64_t batches() const { return batch_hist_.count(); }
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::map<std::string, uint64_t> unchecked_, limits_, protocol_errors_;
  std::map<std::string, int64_t> connections_;
  std::map<std::string, Histogram> latency_;
  Histogram batch_hist_;
  std::function<size_t()> queue_depth_;
  std::string backend_, device_, model_;
  std::atomic<bool> ready_{false};
};

}  // namespace sf::service
