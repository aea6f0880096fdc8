// text.cpp: see text.h.
#include "rules/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sf::rules {

std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "nan";
  return std::string(buf, end);
}

std::string format_probability(float p) {
  // p * 10000 is exact in double; rounding to nearest-even matches "%.4f"
  // without printf's cost on the hot path.
  if (!(p >= 0.0f && p <= 1.0f)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(p));
    return buf;
  }
  auto v = static_cast<int>(std::nearbyint(static_cast<double>(p) * 10000.0));
  std::string s = "0.0000";
  if (v >= 10000) return "1.0000";
  for (int i = 5; i >= 2; --i, v /= 10) s[static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  return s;
}

double float_to_decimal(float p) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, p);
  double d = p;
  if (ec == std::errc()) std::from_chars(buf, end, d);
  return d;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace sf::rules
