// toml_io.cpp: see toml_io.h.
#include "rules/toml_io.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "rules/errors.h"
#include "rules/text.h"

namespace sf::rules {

using nlohmann::json;

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string key_text(std::string_view k) {
  bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(k) : quote(k);
}

std::string inline_value(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return quote(v.get_ref<const std::string&>());
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.dump();
    case json::value_t::number_float: {
      std::string s = format_number(v.get<double>());
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      return s;
    }
    case json::value_t::array: {
      std::string s = "[";
      bool first = true;
      for (const auto& e : v) {
        s += (first ? " " : ", ") + inline_value(e);
        first = false;
      }
      return s + (first ? "]" : " ]");
    }
    case json::value_t::object: {
      std::string s = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        s += (first ? " " : ", ") + key_text(it.key()) + " = " + inline_value(it.value());
        first = false;
      }
      return s + (first ? "}" : " }");
    }
    default:
      throw RuleError("cannot write a null value as TOML");
  }
}

// Keys in a readable order: identity first, the rest alphabetically.
std::vector<std::string> ordered_keys(const json& obj) {
  static const std::vector<std::string> first = {"id",   "name",    "list",     "domain", "user",
                                                 "spam", "suspect", "priority", "enabled"};
  std::vector<std::string> keys;
  for (const auto& k : first) {
    if (obj.contains(k)) keys.push_back(k);
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(first.begin(), first.end(), it.key()) == first.end()) keys.push_back(it.key());
  }
  return keys;
}

bool is_table_array(const json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); });
}

// Writes the scalars of obj, then its sub-tables under [path.key]; when
// top_arrays, arrays of objects become [[path.key]] blocks.
void write_table(std::string& out, const json& obj, const std::string& path, bool top_arrays) {
  auto keys = ordered_keys(obj);
  for (const auto& k : keys) {
    const json& v = obj[k];
    if (v.is_object() || (top_arrays && is_table_array(v))) continue;
    if (v.is_array() && v.empty() && top_arrays) continue;
    out += key_text(k) + " = " + inline_value(v) + "\n";
  }
  for (const auto& k : keys) {
    const json& v = obj[k];
    std::string sub = path.empty() ? key_text(k) : path + "." + key_text(k);
    if (v.is_object()) {
      out += "\n[" + sub + "]\n";
      write_table(out, v, sub, false);
    }
  }
  if (!top_arrays) return;
  for (const auto& k : keys) {
    const json& v = obj[k];
    if (!is_table_array(v)) continue;
    std::string sub = path.empty() ? key_text(k) : path + "." + key_text(k);
    for (const auto& e : v) {
      out += "\n[[" + sub + "]]\n";
      write_table(out, e, sub, false);
    }
  }
}

json node_to_json(const toml::node& n) {
  if (auto t = n.as_table()) {
    json j = json::object();
    for (const auto& [k, v] : *t) j[std::string(k.str())] = node_to_json(v);
    return j;
  }
  if (auto a = n.as_array()) {
    json j = json::array();
    for (const auto& v : *a) j.push_back(node_to_json(v));
    return j;
  }
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return i->get();
  if (auto f = n.as_floating_point()) return f->get();
  if (auto b = n.as_boolean()) return b->get();
  auto where = n.source().begin;
  throw RuleError("line " + std::to_string(where.line) +
                  ": dates and times are not used in rule files");
}

}  // namespace

std::string json_to_toml(const json& j) {
  std::string out;
  write_table(out, j, "", true);
  return out;
}

json toml_to_json(std::string_view text) {
  try {
    toml::table t = toml::parse(text);
    return node_to_json(t);
  } catch (const toml::parse_error& e) {
    auto where = e.source().begin;
    throw RuleError("TOML error at line " + std::to_string(where.line) + ", column " +
                    std::to_string(where.column) + ": " + std::string(e.description()));
  }
}

std::string export_toml(const Config& c) {
  std::string out =
      "# Spamformer rules (spamformer rules export). Import with: spamformer rules import FILE\n"
      "# Format: docs/rules.md. Thresholds, lists and rules not listed here do not exist.\n";
  out += json_to_toml(to_json(normalize(c)));
  return out;
}

Config import_toml(std::string_view text) {
  return normalize(config_from_json(toml_to_json(text)));
}

Rule rule_from_snippet(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  json j;
  if (first != std::string_view::npos && text[first] == '{') {
    try {
      j = json::parse(text);
    } catch (const json::parse_error& e) {
      throw RuleError(std::string("JSON error: ") + e.what());
    }
  } else {
    j = toml_to_json(text);
  }
  return normalize(rule_from_json(j));
}

}  // namespace sf::rules
