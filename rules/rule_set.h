// rule_set.h: a Config compiled for evaluation: rules indexed by scope and
// sorted by precedence, regexes compiled once, lists in hash sets, thresholds
// resolved per scope, the default band actions built from the settings.
//
// Promises: a RuleSet is immutable after build(), so any number of threads may
// evaluate against it at once; evaluation cost does not grow with the number
// of rules or list entries of other domains and users.
// Failure: build() throws RuleError if the configuration is invalid (it
// normalizes first), naming the rule or entry.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rules/address.h"
#include "rules/rule.h"

namespace sf::rules {

namespace detail {

struct StrHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename T>
using StrMap = std::unordered_map<std::string, T, StrHash, std::equal_to<>>;
using StrSet = std::unordered_set<std::string, StrHash, std::equal_to<>>;

// IPs and networks, looked up per prefix length (longest first).
class CidrSet {
 public:
  void add(const Cidr& c);
  std::optional<Cidr> find(const IpAddress& ip) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  struct U128Hash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& v) const {
      return std::hash<uint64_t>{}(v.first * 0x9e3779b97f4a7c15ULL ^ v.second);
    }
  };
  // (prefix length, masked networks), longest prefix first; only the lengths in use.
  std::vector<std::pair<int, std::unordered_set<uint32_t>>> v4_;
  std::vector<std::pair<int, std::unordered_set<std::pair<uint64_t, uint64_t>, U128Hash>>> v6_;
};

// The entries of one list in one scope.
struct ListSet {
  StrSet addresses, domains, parents;  // parents: "*.x" entries, stored as "x"
  bool null_sender = false;
  CidrSet ips;
  // The entry that matches the sender or the client IP, as written; nullopt
  // if none.
  std::optional<std::string> find(const Address& sender, const std::optional<IpAddress>& ip) const;
};

// One named list across scopes.
struct ScopedList {
  ListSet global;
  StrMap<ListSet> by_domain, by_user;
};

struct ListHit {
  Scope scope;
  std::string key;
  std::string entry;
};
std::optional<ListHit> find_in(const ScopedList& l, const Address& rcpt, const Address& sender,
                               const std::optional<IpAddress>& ip);

struct CompiledHeader {
  std::string name;  // as written; compared case-insensitively
  std::string value;
  std::optional<std::regex> re;
  bool nocase = false;
};

struct CompiledRule {
  const Rule* rule = nullptr;  // into RuleSet::config().rules
  std::string id;              // decimal rule id
  std::vector<AddressPattern> sender, recipient;
  std::vector<std::string> tenant, auth_user;
  std::optional<bool> authenticated;
  std::vector<Cidr> client_ip;
  std::vector<CompiledHeader> headers;
  uint64_t size_min = 0;
  uint64_t size_max = UINT64_MAX;
  const ScopedList* list = nullptr;
  std::string list_name;
  bool has_band = false;
  float lo = 0, hi = 1;
  bool hi_open = true;  // no upper bound (the band ends at 1)
  bool skip_model = false;
  bool expand = false;  // an add-header value has a {placeholder}
  std::vector<Action> actions;
  std::string summary;  // "rule 42 "name" (domain example.com, priority 10): sender ..."
};

// Thresholds of one scope, float for comparison (the model's type) and
// double for display.
struct ScopeThresholds {
  std::optional<float> spam, suspect;
  double spam_d = 0, suspect_d = 0;
  std::string label;  // "global", "domain example.com", "user bob@example.com"
};

// The rules of one scope (global, one domain or one user) in precedence
// order, split so that a rule that can only match senders of certain domains
// is looked at only for those senders: the cost of a decision does not grow
// with the number of such rules.
struct RuleList {
  std::vector<const CompiledRule*> generic;  // no sender condition, or wildcards
  StrMap<std::vector<const CompiledRule*>> by_sender_domain;
  bool empty() const { return generic.empty() && by_sender_domain.empty(); }
};

struct Compiled {
  std::vector<CompiledRule> rules;
  RuleList global;
  StrMap<RuleList> by_domain, by_user;
  StrMap<ScopedList> lists;
  const ScopedList* allow = nullptr;
  const ScopedList* block = nullptr;
  ScopeThresholds global_thresholds;  // both set (defaults filled in)
  StrMap<ScopeThresholds> domain_thresholds, user_thresholds;
  std::vector<Action> spam_actions, suspect_actions, ham_actions, unchecked_actions, allow_actions,
      block_actions;
  size_t max_regex_input = 1024;
};

}  // namespace detail

class RuleSet {
 public:
  // Normalizes and compiles; generation is the store's change counter the
  // configuration was read at (0 for one built in memory).
  static std::shared_ptr<const RuleSet> build(Config config, uint64_t generation = 0);

  const Config& config() const { return config_; }
  uint64_t generation() const { return generation_; }
  const detail::Compiled& compiled() const { return c_; }

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

 private:
  RuleSet() = default;
  Config config_;
  uint64_t generation_ = 0;
  detail::Compiled c_;
};

}  // namespace sf::rules
