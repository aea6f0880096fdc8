// serve_metrics.cpp: see serve_metrics.h.
#include "service/serve_metrics.h"

#include <cstdio>

namespace sf::service {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Prometheus label values: backslash, double quote and newline escaped.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

const std::vector<double>& latency_bounds() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++total_;
}

uint64_t Histogram::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    std::string le = i < bounds_.size() ? num(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + num(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(total_) + "\n";
}

Metrics::Metrics() : batch_hist_({1, 2, 4, 8, 16, 32, 64, 128, 256}) {}

void Metrics::count_request(std::string_view interface, std::string_view outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(interface), std::string(outcome)}];
}

uint64_t Metrics::requests(std::string_view interface, std::string_view outcome) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find({std::string(interface), std::string(outcome)});
  return it == requests_.end() ? 0 : it->second;
}

void Metrics::observe_latency(std::string_view interface, double seconds) {
  Histogram* h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = latency_.try_emplace(std::string(interface), latency_bounds()).first;
    h = &it->second;  // std::map nodes are stable
  }
  h->observe(seconds);
}

void Metrics::observe_batch(size_t sequences) {
  batch_hist_.observe(static_cast<double>(sequences));
}

void Metrics::count_unchecked(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++unchecked_[std::string(reason)];
}

void Metrics::count_limit(std::string_view limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ++limits_[std::string(limit)];
}

void Metrics::count_protocol_error(std::string_view interface) {
  std::lock_guard<std::mutex> lock(mu_);
  ++protocol_errors_[std::string(interface)];
}

void Metrics::connection_opened(std::string_view interface) {
  std::lock_guard<std::mutex> lock(mu_);
  ++connections_[std::string(interface)];
}

void Metrics::connection_closed(std::string_view interface) {
  std::lock_guard<std::mutex> lock(mu_);
  --connections_[std::string(interface)];
}

void Metrics::set_queue_depth_source(std::function<size_t()> f) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_ = std::move(f);
}

void Metrics::set_backend(const std::string& name, const std::string& device,
                          const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  backend_ = name;
  device_ = device;
  model_ = model;
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP spamformer_requests_total Messages answered, by interface and outcome.\n";
  out += "# TYPE spamformer_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    out += "spamformer_requests_total{interface=\"" + label(k.first) + "\",outcome=\"" +
           label(k.second) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP spamformer_unchecked_total Messages passed without a score, by reason.\n";
  out += "# TYPE spamformer_unchecked_total counter\n";
  for (const auto& [k, v] : unchecked_)
    out += "spamformer_unchecked_total{reason=\"" + label(k) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP spamformer_limit_hits_total Requests that hit a configured limit.\n";
  out += "# TYPE spamformer_limit_hits_total counter\n";
  for (const auto& [k, v] : limits_)
    out += "spamformer_limit_hits_total{limit=\"" + label(k) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP spamformer_protocol_errors_total Malformed requests, by interface.\n";
  out += "# TYPE spamformer_protocol_errors_total counter\n";
  for (const auto& [k, v] : protocol_errors_)
    out += "spamformer_protocol_errors_total{interface=\"" + label(k) + "\"} " + std::to_string(v) +
           "\n";
  out += "# HELP spamformer_connections Connections open now, by interface.\n";
  out += "# TYPE spamformer_connections gauge\n";
  for (const auto& [k, v] : connections_)
    out += "spamformer_connections{interface=\"" + label(k) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP spamformer_scan_seconds Arrival to verdict, by interface.\n";
  out += "# TYPE spamformer_scan_seconds histogram\n";
  for (const auto& [k, h] : latency_)
    h.render(out, "spamformer_scan_seconds", "interface=\"" + label(k) + "\"");
  out += "# HELP spamformer_batch_size Sequences per backend call.\n";
  out += "# TYPE spamformer_batch_size histogram\n";
  batch_hist_.render(out, "spamformer_batch_size", "");
  out += "# HELP spamformer_queue_depth Messages waiting for the backend.\n";
  out += "# TYPE spamformer_queue_depth gauge\n";
  out += "spamformer_queue_depth " + std::to_string(queue_depth_ ? queue_depth_() : 0) + "\n";
  out += "# HELP spamformer_ready 1 once the model is loaded.\n";
  out += "# TYPE spamformer_ready gauge\n";
  out += std::string("spamformer_ready ") + (ready_ ? "1" : "0") + "\n";
  out += "# HELP spamformer_backend_info The backend in use.\n";
  out += "# TYPE spamformer_backend_info gauge\n";
  if (!backend_.empty())
    out += "spamformer_backend_info{backend=\"" + label(backend_) + "\",device=\"" +
           label(device_) + "\",model=\"" + label(model_) + "\"} 1\n";
  return out;
}

}  // namespace sf::service
