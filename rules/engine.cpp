// engine.cpp: see engine.h.
#include "rules/engine.h"

namespace sf::rules {

RuleEngine::RuleEngine() : current_(RuleSet::build(Config{})) {}

RuleEngine::RuleEngine(std::shared_ptr<const RuleSet> initial) : current_(std::move(initial)) {}

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
