// cmd_rules.h: `spamformer rules`: administer the rules database (list, show,
// add, remove, set-threshold, lists, tenants, settings, test, export,
// import, what-if, audit). Every change goes through rules::Store, which the
// daemon's HTTP admin endpoints will call too, and writes an audit row naming
// the actor (--actor, else $SUDO_USER, else $USER).
//
// Exit status: 0 done; 1 the database was refused or the named rule, entry
// or tenant does not exist; 2 bad usage or a bad value (the message names
// it). Nothing is changed when the status is not 0.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rules/evaluate.h"
#include "rules/rule_set.h"

namespace sf::cli {

// args: what follows `spamformer rules`. Writes to std::cout / std::cerr.
int cmd_rules(const std::vector<std::string>& args);
int cmd_rules(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// What `rules test` prints for a context: the context, whether the model is
// needed, and the decision with its reason. The hook for testing a message
// file: once the model pipeline exists, parse the file into a Context
// (envelope from flags, headers, size), compute the probability, call this.
nlohmann::json rules_test_report(const rules::Context& ctx, const rules::RuleSet& rules);

}  // namespace sf::cli
