// serve_log.h: the daemon's structured log: one JSON object per line on
// standard error ({"ts":...,"level":...,"event":...,fields...}).
//
// What it does: writes events at or above the configured level; never
// message content (callers pass verdicts, sizes, reasons; untrusted strings
// such as a spamc user name go through printable()). Limit hits are logged
// once per hit, at most 10 lines a minute per limit (the rest are counted in
// the line that follows the pause and in the metrics).
// Promises: thread-safe; a line is written whole; invalid UTF-8 in a field is
// replaced, never thrown.
// Failure: none (a failed write to stderr is ignored).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sf::service {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
LogLevel parse_log_level(std::string_view name);  // "info" etc.; unknown: info

void set_log_level(LogLevel level);
// Tests capture lines with a sink; nullptr restores standard error.
void set_log_sink(std::function<void(const std::string&)> sink);
void log_event(LogLevel level, std::string_view event,
               nlohmann::json fields = nlohmann::json::object());
// A configured limit was hit (event "limit", field "limit": its config key).
void log_limit(std::string_view limit, nlohmann::json fields = nlohmann::json::object());

}  // namespace sf::service
