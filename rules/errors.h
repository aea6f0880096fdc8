// errors.h: the exceptions of the rules module, one per party at fault.
//
// RuleError: a rule, list entry, threshold or setting given by an
//   administrator is invalid (the message names the bad value). Nothing was
//   changed.
// NotFound: an administrator named a rule, list entry or tenant that does not
//   exist. Nothing was changed.
// StoreError: the rules database cannot be used: corrupt, written by a newer
//   spamformer, not a spamformer database, or an I/O error. The database is
//   left as it was; it is never replaced by defaults.
#pragma once

#include <stdexcept>

namespace sf::rules {

struct RuleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sf::rules
