// what_if.h: replays the verdict log under a proposed change and counts the
// messages whose outcome would change, by transition ("flag $Suspect ->
// move Junk") and by recipient domain.
//
// A verdict keeps only domains, hashes, size, tenant and probability, so a
// logged message is replayed with a context rebuilt from those: the
// recipient address is recovered where its hash matches an address the rules
// name, the sender's local part, the headers, the client IP and the login are
// unknown. A verdict is replayed only if the current rules, given that
// context, reach the logged rule again; otherwise it is counted as not
// replayable (its rule needed data the log does not keep, or the rules
// changed since). A proposal that changes only thresholds cannot change a
// message decided by a list or a rule (bands come last), so such messages
// count as unchanged.
// Promises: pure: the same rule sets and verdicts give the same report.
// Failure: none here (the store's reading may throw StoreError).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rules/rule_set.h"
#include "rules/verdict.h"

namespace sf::rules {

struct WhatIfReport {
  uint64_t total = 0;
  uint64_t replayed = 0;  // reproduced under the current rules
  uint64_t kept = 0;      // decided by a list or rule a threshold change cannot touch
  uint64_t not_replayable = 0;
  uint64_t changed = 0;
  std::map<std::string, uint64_t> by_transition;  // "old -> new": count
  std::map<std::string, uint64_t> by_domain;      // recipient domain: changed count
  std::map<std::string, std::map<std::string, uint64_t>> by_domain_transition;
  std::map<std::string, uint64_t> not_replayable_by_rule;  // logged rule id: count
  std::vector<std::string> notes;                          // limits of this replay
};

class WhatIf {
 public:
  // thresholds_only: the proposal changes thresholds and nothing else.
  WhatIf(std::shared_ptr<const RuleSet> current, std::shared_ptr<const RuleSet> proposed,
         bool thresholds_only);
  void add(const Verdict& v);
  const WhatIfReport& report() const { return report_; }

 private:
  std::shared_ptr<const RuleSet> current_, proposed_;
  bool thresholds_only_;
  std::map<std::string, std::string> address_by_hash_;
  WhatIfReport report_;
};

nlohmann::json to_json(const WhatIfReport& r);
std::string to_text(const WhatIfReport& r);

}  // namespace sf::rules
