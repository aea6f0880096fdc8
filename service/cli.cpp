// cli.cpp: see cli.h.
#include "service/cli.h"

#include <charconv>
#include <cmath>
#include <sstream>

namespace sf::cli {
namespace {

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

Args::Args(const CommandSpec& spec, const std::vector<std::string>& argv) : spec_(spec) {
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a == "-" || a.size() < 2 || a[0] != '-') {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) throw UsageError("unknown option '" + a + "'");
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* o = find_option(spec, name);
    if (!o) throw UsageError("unknown option '--" + name + "' for '" + spec.name + "'");
    if (o->value_name.empty()) {
      if (value) throw UsageError("option '--" + name + "' takes no value");
      values_[name] = "1";
      continue;
    }
    if (!value) {
      if (i + 1 >= argv.size()) throw UsageError("option '--" + name + "' needs a value");
      value = argv[++i];
    }
    values_[name] = *value;
  }
}

bool Args::flag(const std::string& name) const { return values_.count(name) != 0; }

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

long long Args::get_int(const std::string& name, long long fallback, long long lo,
                        long long hi) const {
  auto v = get(name);
  if (!v) return fallback;
  long long out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size())
    throw UsageError("option '--" + name + "': '" + *v + "' is not an integer");
  if (out < lo || out > hi)
    throw UsageError("option '--" + name + "': " + *v + " is outside [" + std::to_string(lo) +
                     ", " + std::to_string(hi) + "]");
  return out;
}

double Args::get_double(const std::string& name, double fallback, double lo, double hi) const {
  auto v = get(name);
  if (!v) return fallback;
  double out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || !std::isfinite(out))
    throw UsageError("option '--" + name + "': '" + *v + "' is not a number");
  if (out < lo || out > hi)
    throw UsageError("option '--" + name + "': " + *v + " is outside the allowed range");
  return out;
}

std::string usage(const CommandSpec& spec) {
  std::ostringstream s;
  s << "usage: spamformer " << spec.name << " [OPTIONS] " << spec.synopsis << "\n\n"
    << spec.summary << "\n\noptions:\n";
  for (const auto& o : spec.options) {
    std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    s << left;
    if (left.size() < 28)
      s << std::string(28 - left.size(), ' ');
    else
      s << "\n" << std::string(28, ' ');
    s << o.help;
    if (!o.default_value.empty()) s << " (default: " << o.default_value << ")";
    s << "\n";
  }
  s << "  --help                    show this help\n";
  if (!spec.description.empty()) s << "\n" << spec.description << "\n";
  return s.str();
}

}  // namespace sf::cli
