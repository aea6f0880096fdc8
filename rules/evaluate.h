// evaluate.h: the decision for one message delivery: a pure function of a
// Context (envelope, headers, size, probability) and a RuleSet.
//
// Precedence (docs/rules.md has examples):
//   1. the block list, then the allow list, each looked up for the recipient
//      address, the recipient domain and globally; a block entry in any scope
//      beats an allow entry in any scope;
//   2. rules of the recipient address (user scope), then of the recipient
//      domain, then global rules; within a scope by priority (lower first),
//      then by id; the first rule whose conditions all hold fires;
//   3. the probability bands with the thresholds of the most specific scope
//      that sets them: p >= spam: spam; suspect <= p < spam: suspect; below:
//      ham; no probability: unchecked.
// Probabilities and band edges are compared as float, the model's type.
//
// Promises: evaluate() never throws and never blocks; regexes see at most
// settings.max_regex_input bytes of a header value.
// Failure: none; a Context the peer made up (bad addresses) simply matches
// fewer rules.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rules/address.h"
#include "rules/rule.h"
#include "rules/rule_set.h"

namespace sf::rules {

struct Header {
  std::string name;
  std::string value;  // unfolded
};

// One delivery: one recipient. Adapters with several recipients evaluate
// once per recipient.
struct Context {
  std::string sender;     // envelope MAIL FROM; empty or "<>" for bounces
  std::string recipient;  // envelope RCPT TO
  std::string tenant;
  std::string auth_user;  // SMTP AUTH login; empty if none
  std::optional<IpAddress> client_ip;
  std::vector<Header> headers;
  uint64_t size = 0;                 // message size in bytes
  std::optional<float> probability;  // absent: the model did not (yet) run
};

struct Decision {
  std::vector<Action> actions;  // in order; {placeholders} expanded
  std::string rule_id;          // "42", "block-list", "allow-list", "default:spam", ...
  std::string band;             // spam, suspect, ham, unchecked (defaults only)
  std::string reason;           // for people: what matched and why
};

Decision evaluate(const Context& ctx, const RuleSet& rules);

// Before the model runs (ctx.probability ignored): the decision if it does
// not depend on the probability and the model may be skipped (a list entry,
// or a rule without a band that has the skip-model action), else nullopt.
std::optional<Decision> evaluate_before_model(const Context& ctx, const RuleSet& rules);
inline bool needs_model(const Context& ctx, const RuleSet& rules) {
  return !evaluate_before_model(ctx, rules).has_value();
}

// The band edges in effect for a recipient (user, else domain, else global,
// else the defaults), with the scope each came from ("domain example.com").
struct EffectiveThresholds {
  double spam = kDefaultSpam;
  double suspect = kDefaultSuspect;
  std::string spam_from, suspect_from;
};
EffectiveThresholds effective_thresholds(const RuleSet& rules, std::string_view recipient);

// "move Junk; flag $Suspect" or "deliver": what the decision does to the
// message, leaving out headers and skip-model. Used to compare decisions.
std::string outcome(const std::vector<Action>& actions);

// JSON forms, for the CLI and the HTTP admin API. Headers are written as
// "Name: value" strings. context_from_json throws RuleError.
nlohmann::json to_json(const Decision& d);
nlohmann::json to_json(const Context& c);
Context context_from_json(const nlohmann::json& j);

}  // namespace sf::rules
