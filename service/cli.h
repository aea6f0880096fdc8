// cli.h: a small command-line parser shared by the `spamformer` subcommands.
//
// What it does: splits argv into `--name value` / `--name=value` options,
// boolean `--flag`s and positional arguments, against a declared option list,
// and renders that list as --help text.
// Promises: unknown options, missing values and bad numbers are reported as
// UsageError naming the option; nothing is silently ignored.
// Failure: UsageError is the user's fault; main prints it with the usage line
// and exits with status 2.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;       // without the leading "--"
  std::string value_name; // empty: a boolean flag
  std::string help;
  std::string default_value;  // shown in --help; empty: none
};

struct CommandSpec {
  std::string name;        // "classify"
  std::string synopsis;    // "[FILE...|-]"
  std::string summary;     // one line
  std::string description; // paragraphs after the option list (may be empty)
  std::vector<OptionSpec> options;
};

class Args {
 public:
  // Throws UsageError. "--help"/"-h" sets help().
  Args(const CommandSpec& spec, const std::vector<std::string>& argv);

  bool help() const { return help_; }
  bool flag(const std::string& name) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  long long get_int(const std::string& name, long long fallback, long long lo, long long hi) const;
  double get_double(const std::string& name, double fallback, double lo, double hi) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const CommandSpec& spec_;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

std::string usage(const CommandSpec& spec);

}  // namespace sf::cli
