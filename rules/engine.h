// engine.h: the rule set a running daemon decides with, swapped atomically
// when administrators change the rules.
//
// Promises: current() returns a complete rule set, the old one or the new
// one, never a mix: the pointer is swapped atomically and a rule set is
// immutable, and reload() reads the store in one snapshot transaction. A
// reader keeps its rule set alive for as long as it holds the pointer.
// Evaluation never waits for a reload.
// Failure: reload() throws StoreError or RuleError (the stored configuration
// cannot be read or compiled) and keeps the current rule set: a bad change
// never leaves the daemon without rules.
#pragma once

#include <atomic>
#include <memory>

#include "rules/evaluate.h"
#include "rules/rule_set.h"
#include "rules/store.h"

namespace sf::rules {

class RuleEngine {
 public:
  // Starts with the built-in defaults (no rules, default thresholds).
  RuleEngine();
  explicit RuleEngine(std::shared_ptr<const RuleSet> initial);

  std::shared_ptr<const RuleSet> current() const { return current_.load(); }
  void swap(std::shared_ptr<const RuleSet> next) { current_.store(std::move(next)); }

  Decision evaluate(const Context& ctx) const { return rules::evaluate(ctx, *current()); }
  std::optional<Decision> evaluate_before_model(const Context& ctx) const {
    return rules::evaluate_before_model(ctx, *current());
  }

  // Reads the configuration from the store, compiles it and swaps it in.
  void reload(Store& store);
  // Reloads only if the store's generation differs from the current one;
  // true if it did. Cheap enough to call every second.
  bool reload_if_changed(Store& store);

 private:
  std::atomic<std::shared_ptr<const RuleSet>> current_;
};

}  // namespace sf::rules
