// serve_policy.h: turns a probability (and the request's context) into a
// verdict and the actions an adapter carries out.
//
// What it does: the daemon asks a Policy once per scored message. The
// built-in default policy follows the product brief: p >= spam_threshold is
// spam (move to the spam folder), suspect_threshold <= p < spam_threshold is
// suspect (set a keyword), else ham (accept). The business-rule engine
// (rules/) plugs in behind the same interface.
// Promises: decide() is thread-safe and never throws for any p in [0, 1].
// Failure: a bad threshold is a ConfigError caught when the config is read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "service/config.h"
#include "service/scan.h"

namespace sf::service {

struct Decision {
  Verdict verdict = Verdict::ham;
  std::string rule;                  // "default-spam", or the rule engine's rule name
  std::vector<std::string> actions;  // "move Junk", "flag $Suspect", "accept", ...
  double spam_threshold = 0.9;       // for the SpamAssassin "required" value
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  virtual Decision decide(const ScanRequest& request, double probability,
                          const std::vector<std::string>& flags) const = 0;
};

std::shared_ptr<const Policy> make_default_policy(const VerdictConfig& v);

}  // namespace sf::service
