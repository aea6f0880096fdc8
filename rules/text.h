// text.h: small text helpers shared by the rules module and its command:
// exact number formatting and strict parsing of administrator input.
// Promises: format_number gives the shortest text that reads back as the same
// double ("0.9", not "0.90000000000000002"); the parse_* functions accept the
// whole string or nothing.
// Failure: parse_* return nullopt on bad input (the caller names the value).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sf::rules {

std::string format_number(double v);
std::string format_probability(float p);  // "0.9312" (4 decimals)
// The double nearest to the shortest decimal that reads back as this float
// (0.2f -> 0.2, not 0.20000000298023224): for JSON and SQLite, which hold
// doubles; converting the result back to float gives p exactly.
double float_to_decimal(float p);
std::optional<bool> parse_bool(std::string_view s);
std::optional<int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);

}  // namespace sf::rules
