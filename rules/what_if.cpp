// what_if.cpp: see what_if.h.
#include "rules/what_if.h"

#include <algorithm>

#include "rules/address.h"
#include "rules/evaluate.h"
#include "rules/sha256.h"

namespace sf::rules {

namespace {

// Addresses the configuration names: user scopes and address patterns.
void collect_addresses(const Config& c, std::map<std::string, std::string>& out) {
  auto add = [&](const std::string& a) {
    if (a.find('@') != std::string::npos && !a.starts_with("*.")) out[sha256_hex(a)] = a;
  };
  for (const auto& r : c.rules) {
    if (r.scope == Scope::user) add(r.key);
    for (const auto& p : r.match.recipient) add(p);
  }
  for (const auto& e : c.lists) {
    if (e.scope == Scope::user) add(e.key);
  }
  for (const auto& t : c.thresholds) {
    if (t.scope == Scope::user) add(t.key);
  }
}

bool unknown_fields(const Rule& r) {
  const Match& m = r.match;
  return !m.headers.empty() || !m.client_ip.empty() || m.authenticated || !m.auth_user.empty() ||
         !m.list.empty() || std::any_of(m.sender.begin(), m.sender.end(), [](const std::string& s) {
           return s.find('@') != std::string::npos;
         });
}

}  // namespace

WhatIf::WhatIf(std::shared_ptr<const RuleSet> current, std::shared_ptr<const RuleSet> proposed,
               bool thresholds_only)
    : current_(std::move(current)),
      proposed_(std::move(proposed)),
      thresholds_only_(thresholds_only) {
  collect_addresses(current_->config(), address_by_hash_);
  collect_addresses(proposed_->config(), address_by_hash_);
  report_.notes.push_back(
      "the log keeps domains, hashes, size, tenant and probability: rules on headers, client "
      "IP, login, sender address or lists are not replayed");
  for (const auto& r : proposed_->config().rules) {
    if (r.enabled && unknown_fields(r)) {
      report_.notes.push_back("proposed rule " + (r.id ? std::to_string(r.id) : "(new)") +
                              " matches on data the log does not keep; its effect is undercounted");
    }
  }
}

void WhatIf::add(const Verdict& v) {
  ++report_.total;
  Context ctx;
  // "(unlogged)" cannot be written in an unquoted local part, so no rule
  // address matches it.
  if (!v.sender_domain.empty()) ctx.sender = "(unlogged)@" + v.sender_domain;
  auto it = address_by_hash_.find(v.recipient_hash);
  ctx.recipient = it != address_by_hash_.end() ? it->second : "(unlogged)@" + v.recipient_domain;
  ctx.tenant = v.tenant;
  ctx.size = v.size;
  ctx.probability = v.probability;

  Decision before = evaluate(ctx, *current_);
  if (before.rule_id != v.rule_id) {
    bool band_logged = v.rule_id.starts_with("default:");
    if (thresholds_only_ && !band_logged) {
      ++report_.kept;
      return;
    }
    ++report_.not_replayable;
    ++report_.not_replayable_by_rule[v.rule_id];
    return;
  }
  ++report_.replayed;
  Decision after = evaluate(ctx, *proposed_);
  std::string from = outcome(before.actions), to = outcome(after.actions);
  if (from == to) return;
  ++report_.changed;
  std::string transition = from + " -> " + to;
  ++report_.by_transition[transition];
  ++report_.by_domain[v.recipient_domain];
  ++report_.by_domain_transition[v.recipient_domain][transition];
}

nlohmann::json to_json(const WhatIfReport& r) {
  return {{"total", r.total},
          {"replayed", r.replayed},
          {"kept", r.kept},
          {"not_replayable", r.not_replayable},
          {"changed", r.changed},
          {"by_transition", r.by_transition},
          {"by_domain", r.by_domain},
          {"by_domain_transition", r.by_domain_transition},
          {"not_replayable_by_rule", r.not_replayable_by_rule},
          {"notes", r.notes}};
}

std::string to_text(const WhatIfReport& r) {
  std::string s;
  s += "verdicts: " + std::to_string(r.total) + " (replayed " + std::to_string(r.replayed) +
       ", decided before the bands " + std::to_string(r.kept) + ", not replayable " +
       std::to_string(r.not_replayable) + ")\n";
  s += "would change: " + std::to_string(r.changed) + "\n";
  if (!r.by_transition.empty()) s += "by action:\n";
  for (const auto& [t, n] : r.by_transition) s += "  " + std::to_string(n) + "  " + t + "\n";
  if (!r.by_domain.empty()) s += "by recipient domain:\n";
  for (const auto& [d, n] : r.by_domain) {
    s += "  " + std::to_string(n) + "  " + (d.empty() ? "(none)" : d) + "\n";
    for (const auto& [t, m] : r.by_domain_transition.at(d)) {
      s += "      " + std::to_string(m) + "  " + t + "\n";
    }
  }
  if (!r.not_replayable_by_rule.empty()) s += "not replayable, by logged rule:\n";
  for (const auto& [id, n] : r.not_replayable_by_rule)
    s += "  " + std::to_string(n) + "  " + id + "\n";
  for (const auto& n : r.notes) s += "note: " + n + "\n";
  return s;
}

}  // namespace sf::rules
