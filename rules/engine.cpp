// engine.cpp: see engine.h.
#include "rules/engine.h"

namespace sf::rules {

RuleEngine::RuleEngine() : current_(RuleSet::build(Config{})) {}

RuleEngine::RuleEngine(std::shared_ptr<const RuleSet> initial) : current_(std::move(initial)) {}

std::shared_ptr<const RuleSet> RuleEngine::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void RuleEngine::swap(std::shared_ptr<const RuleSet> next) {
  {
    std::lock_guard lock(mu_);
    current_.swap(next);
  }
  // Counted after the pointer is in place: a Reader that sees the new count
  // fetches at least this rule set. The old one is freed here, outside the
  // lock, unless a reader still holds it.
  swaps_.fetch_add(1, std::memory_order_release);
}

void RuleEngine::reload(Store& store) {
  uint64_t generation = 0;
  Config c = store.load_config(&generation);
  swap(RuleSet::build(std::move(c), generation));
}

bool RuleEngine::reload_if_changed(Store& store) {
  if (store.generation() == current()->generation()) return false;
  reload(store);
  return true;
}

}  // namespace sf::rules
