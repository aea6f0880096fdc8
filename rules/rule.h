// rule.h: the rule configuration as administrators write it: rules with their
// match conditions and actions, list entries, probability thresholds per
// scope, settings and tenants. Plain data, with validation and a JSON form
// (the store keeps rules as JSON; the TOML export and the CLI use the same
// field names).
//
// Promises: normalize() leaves a value canonical (lower-cased addresses and
// domains, default texts filled in) so that equal configurations compare
// equal and export identically; a value that passed normalize() compiles into
// a RuleSet.
// Failure: RuleError naming the field and the bad value (the administrator's
// fault). JSON with unknown keys is refused (a typo must not silently widen a
// rule).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf::rules {

// Where a rule, list entry or threshold applies: to every message, to the
// messages for one recipient domain, or for one recipient address.
enum class Scope { global, domain, user };
std::string_view scope_name(Scope s);
std::optional<Scope> parse_scope(std::string_view s);
// A scope's key, canonical: "" for global, a domain, or an address. Throws
// RuleError if it does not fit the scope.
std::string normalize_scope_key(Scope s, std::string_view key);
std::string scope_label(Scope s, std::string_view key);  // "global", "domain example.com"

enum class ActionKind {
  accept,       // deliver to the inbox; nothing else happens
  reject,       // refuse at SMTP time (permanent, 5xx); arg: reply text
  tempfail,     // refuse for now (4xx); arg: reply text
  discard,      // accept and silently drop
  quarantine,   // hold for an administrator; arg: optional note
  move,         // deliver into a folder; arg: folder name
  flag,         // set an IMAP flag or keyword; arg: "\Flagged" or a keyword
  add_header,   // add a header; arg: "Name: value"
  tag_subject,  // prefix the Subject; arg: the tag
  skip_model,   // decide without running the model (no probability band)
};

struct ActionInfo {
  ActionKind kind;
  std::string_view name;  // as written in rules: "move", "add-header", ...
  bool takes_arg;
  bool needs_arg;
  bool disposition;  // what happens to the message (at most one per rule)
  std::string_view help;
};
// The table of action kinds and their names, in the order of ActionKind.
const std::vector<ActionInfo>& action_table();
const ActionInfo& action_info(ActionKind k);

struct Action {
  ActionKind kind = ActionKind::accept;
  std::string arg;

  // "move Junk", "add-header X-Foo: bar", "accept". Throws RuleError.
  static Action parse(std::string_view text);
  std::string str() const;
  bool operator==(const Action&) const = default;
};

struct HeaderMatch {
  std::string name;     // header field name, compared case-insensitively
  std::string value;    // exact value (after trimming white space) or a regex
  bool regex = false;   // ECMAScript regex, searched in the value
  bool nocase = false;  // compare / match ignoring ASCII case
  bool operator==(const HeaderMatch&) const = default;
};

// Probability band [lo, hi): lo inclusive, hi exclusive; hi >= 1 means no
// upper bound (so p = 1 is inside a band that ends at 1).
struct Band {
  double lo = 0;
  double hi = 1;
  bool operator==(const Band&) const = default;
};

// All conditions given must hold; within one list any element may match.
struct Match {
  std::vector<std::string> sender;     // address patterns (see address.h)
  std::vector<std::string> recipient;  // address patterns
  std::vector<std::string> tenant;
  std::optional<bool> authenticated;   // SMTP AUTH was used (or not)
  std::vector<std::string> auth_user;  // the authenticated login, exact
  std::vector<std::string> client_ip;  // IPs or CIDR networks
  std::vector<HeaderMatch> headers;    // every one must match
  std::optional<uint64_t> size_min;    // bytes, inclusive
  std::optional<uint64_t> size_max;    // bytes, exclusive
  std::string list;                    // sender or client IP is in this named list
  std::optional<Band> probability;
  bool operator==(const Match&) const = default;
};

struct Rule {
  int64_t id = 0;  // 0: not stored yet
  std::string name;
  Scope scope = Scope::global;
  std::string key;     // domain or address for domain and user scope
  int priority = 100;  // lower runs first within a scope; ties by id
  bool enabled = true;
  Match match;
  std::vector<Action> actions;
  bool operator==(const Rule&) const = default;
};

// List entries: address patterns or IPs/networks. The lists named "allow"
// and "block" are consulted before any rule; other names are for rules'
// "list" condition.
struct ListEntry {
  std::string list;
  Scope scope = Scope::global;
  std::string key;
  std::string entry;
  std::string comment;
  bool operator==(const ListEntry&) const = default;
};
inline constexpr std::string_view kAllowList = "allow";
inline constexpr std::string_view kBlockList = "block";

// Probability thresholds for one scope; an unset value is inherited (user
// from domain from global from the built-in defaults).
struct Thresholds {
  std::optional<double> spam;     // p >= spam: spam band
  std::optional<double> suspect;  // suspect <= p < spam: suspect band
  bool operator==(const Thresholds&) const = default;
};
inline constexpr double kDefaultSpam = 0.90;
inline constexpr double kDefaultSuspect = 0.50;

struct ThresholdEntry {
  Scope scope = Scope::global;
  std::string key;
  Thresholds t;
  bool operator==(const ThresholdEntry&) const = default;
};

struct Settings {
  std::string spam_folder = "Junk";                            // spam band: move here
  std::string suspect_keyword = "$Suspect";                    // suspect band: set this keyword
  bool suspect_flagged = false;                                // suspect band: also set \Flagged
  std::string block_text = "Message refused by local policy";  // block-list reply
  int64_t max_regex_input = 1024;                              // header bytes a regex sees
  bool operator==(const Settings&) const = default;
};

struct Tenant {
  std::string name;
  std::string description;
  bool operator==(const Tenant&) const = default;
};

struct Config {
  Settings settings;
  std::vector<ThresholdEntry> thresholds;
  std::vector<Tenant> tenants;
  std::vector<ListEntry> lists;
  std::vector<Rule> rules;
  bool operator==(const Config&) const = default;
};

// The thresholds entry of (scope, key) in c, added (with nothing set) if absent.
Thresholds& thresholds_for(Config& c, Scope scope, const std::string& key);

// Validation and canonical form; each throws RuleError naming the bad value.
Action normalize(Action a);
Rule normalize(Rule r);
ListEntry normalize(ListEntry e);
ThresholdEntry normalize(ThresholdEntry t);
Settings normalize(Settings s);
Tenant normalize(Tenant t);
// Also sorts every part into export order and checks for duplicates.
Config normalize(Config c);

// "rule 42 "name" (domain example.com, priority 10): sender in {x.example}, p in [0.8, 1]"
std::string describe(const Rule& r);

// Setting names for the CLI and the store (key = value text).
std::vector<std::string> setting_names();
std::string get_setting(const Settings& s, std::string_view name);
void set_setting(Settings& s, std::string_view name, std::string_view value);  // throws

// JSON form. from_json throws RuleError on unknown keys and bad types.
nlohmann::json to_json(const Match& m);
nlohmann::json to_json(const Rule& r);
nlohmann::json to_json(const ListEntry& e);
nlohmann::json to_json(const ThresholdEntry& t);
nlohmann::json to_json(const Settings& s);
nlohmann::json to_json(const Tenant& t);
nlohmann::json to_json(const Config& c);
nlohmann::json to_json(const std::vector<Action>& actions);
Match match_from_json(const nlohmann::json& j);
Rule rule_from_json(const nlohmann::json& j);
ListEntry list_entry_from_json(const nlohmann::json& j);
ThresholdEntry threshold_from_json(const nlohmann::json& j);
Settings settings_from_json(const nlohmann::json& j);
Tenant tenant_from_json(const nlohmann::json& j);
Config config_from_json(const nlohmann::json& j);
std::vector<Action> actions_from_json(const nlohmann::json& j);

}  // namespace sf::rules
