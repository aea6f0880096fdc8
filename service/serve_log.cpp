// serve_log.cpp: see serve_log.h.
#include "service/serve_log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

namespace sf::service {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_mu;
std::function<void(const std::string&)> g_sink;

struct LimitState {
  std::chrono::steady_clock::time_point window_start{};
  int in_window = 0;
  uint64_t suppressed = 0;
};
std::map<std::string, LimitState, std::less<>> g_limits;

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

LogLevel parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return LogLevel::info;
}

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }

void set_log_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_sink = std::move(sink);
}

void log_event(LogLevel level, std::string_view event, nlohmann::json fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["ts"] = timestamp();
  line["level"] = level_name(level);
  line["event"] = event;
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) line[k] = v;
  std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_sink) {
    g_sink(text);
  } else {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

void log_limit(std::string_view limit, nlohmann::json fields) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_limits.find(limit);
    if (it == g_limits.end()) it = g_limits.emplace(std::string(limit), LimitState{}).first;
    LimitState& s = it->second;
    if (now - s.window_start >= std::chrono::minutes(1)) {
      s.window_start = now;
      s.in_window = 0;
    }
    if (++s.in_window > 10) {
      ++s.suppressed;
      return;
    }
    suppressed = s.suppressed;
    s.suppressed = 0;
  }
  fields["limit"] = limit;
  if (suppressed > 0) fields["suppressed_before"] = suppressed;
  log_event(LogLevel::warn, "limit", std::move(fields));
}

}  // namespace sf::service
