// engine.h: the rule set a running daemon decides with, swapped atomically
// when administrators change the rules.
//
// Promises: current() returns a complete rule set, the old one or the new
// one, never a mix: the pointer is swapped under a mutex and a rule set is
// immutable, and reload() reads the store in one snapshot transaction. A
// reader keeps its rule set alive for as long as it holds the pointer.
// Evaluation never waits for a reload (the lock only guards a pointer copy).
// (std::atomic<std::shared_ptr> is not used: GCC 12's load() releases its
// internal lock with relaxed ordering, a data race ThreadSanitizer reports.)
// Failure: reload() throws StoreError or RuleError (the stored configuration
// cannot be read or compiled) and keeps the current rule set: a bad change
// never leaves the daemon without rules.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "rules/evaluate.h"
#include "rules/rule_set.h"
#include "rules/store.h"

namespace sf::rules {

class RuleEngine {
 public:
  // Starts with the built-in defaults (no rules, default thresholds).
  RuleEngine();
  explicit RuleEngine(std::shared_ptr<const RuleSet> initial);

  std::shared_ptr<const RuleSet> current() const;
  void swap(std::shared_ptr<const RuleSet> next);
  // Counts swaps; a Reader compares it to know when to fetch again.
  uint64_t swaps() const { return swaps_.load(std::memory_order_acquire); }

  Decision evaluate(const Context& ctx) const { return rules::evaluate(ctx, *current()); }
  std::optional<Decision> evaluate_before_model(const Context& ctx) const {
    return rules::evaluate_before_model(ctx, *current());
  }

  // Reads the configuration from the store, compiles it and swaps it in.
  void reload(Store& store);
  // Reloads only if the store's generation differs from the current one;
  // true if it did. Cheap enough to call every second. (Call reload() once
  // at start: a fresh store and the built-in defaults are both generation 0.)
  bool reload_if_changed(Store& store);

  // A per-thread (or per-connection) handle: get() takes no lock unless the
  // rule set was swapped since the last call, so busy threads do not contend.
  class Reader {
   public:
    explicit Reader(const RuleEngine& e) : engine_(e) {}
    const RuleSet& get() {
      uint64_t n = engine_.swaps();
      if (!rules_ || n != seen_) {
        rules_ = engine_.current();
        seen_ = n;
      }
      return *rules_;
    }

   private:
    const RuleEngine& engine_;
    uint64_t seen_ = 0;
    std::shared_ptr<const RuleSet> rules_;
  };

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> current_;
  std::atomic<uint64_t> swaps_{0};
};

}  // namespace sf::rules
