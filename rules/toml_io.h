// toml_io.h: the rule configuration as TOML, for `spamformer rules export`
// and `import`, and single rules as TOML or JSON snippets.
//
// The TOML has the same field names as the JSON form in rule.h (see
// docs/rules.md). Export is canonical: export -> import -> export gives the
// same text.
// Failure: RuleError with the line and column of a TOML syntax error, or the
// field of a bad value (the administrator's fault).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "rules/rule.h"

namespace sf::rules {

// A JSON object written as a TOML document (top-level arrays of objects as
// [[tables]], deeper ones inline).
std::string json_to_toml(const nlohmann::json& j);
// A TOML document read into JSON (tables -> objects, arrays -> arrays).
nlohmann::json toml_to_json(std::string_view text);

std::string export_toml(const Config& c);
Config import_toml(std::string_view text);  // normalized

// One rule from a snippet: JSON if it starts with '{', else TOML.
Rule rule_from_snippet(std::string_view text);

}  // namespace sf::rules
