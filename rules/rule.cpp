// rule.cpp: see rule.h.
#include "rules/rule.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <regex>
#include <set>

#include "rules/address.h"
#include "rules/errors.h"
#include "rules/text.h"

namespace sf::rules {

using nlohmann::json;

// ---- scopes --------------------------------------------------------------

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::global:
      return "global";
    case Scope::domain:
      return "domain";
    case Scope::user:
      return "user";
  }
  return "?";
}

std::optional<Scope> parse_scope(std::string_view s) {
  if (s == "global") return Scope::global;
  if (s == "domain") return Scope::domain;
  if (s == "user") return Scope::user;
  return std::nullopt;
}

std::string normalize_scope_key(Scope s, std::string_view key) {
  switch (s) {
    case Scope::global:
      if (!key.empty()) throw RuleError("global scope takes no domain or user");
      return {};
    case Scope::domain: {
      if (key.empty()) throw RuleError("domain scope needs a domain");
      auto p = AddressPattern::parse(key);
      if (p.kind != AddressPattern::Kind::domain) {
        throw RuleError("domain scope needs a domain like example.com, not '" + std::string(key) +
                        "'");
      }
      return p.text;
    }
    case Scope::user: {
      if (key.empty()) throw RuleError("user scope needs an address");
      auto p = AddressPattern::parse(key);
      if (p.kind != AddressPattern::Kind::address) {
        throw RuleError("user scope needs an address like bob@example.com, not '" +
                        std::string(key) + "'");
      }
      return p.text;
    }
  }
  return {};
}

std::string scope_label(Scope s, std::string_view key) {
  if (s == Scope::global) return "global";
  return std::string(scope_name(s)) + " " + std::string(key);
}

// ---- actions -------------------------------------------------------------

const std::vector<ActionInfo>& action_table() {
  static const std::vector<ActionInfo> table = {
      {ActionKind::accept, "accept", false, false, true, "deliver to the inbox"},
      {ActionKind::reject, "reject", true, false, true, "refuse (5xx) with TEXT"},
      {ActionKind::tempfail, "tempfail", true, false, true, "refuse for now (4xx) with TEXT"},
      {ActionKind::discard, "discard", false, false, true, "accept and drop silently"},
      {ActionKind::quarantine, "quarantine", true, false, true, "hold for an administrator"},
      {ActionKind::move, "move", true, true, true, "deliver into FOLDER"},
      {ActionKind::flag, "flag", true, true, false, "set \\Flagged or a KEYWORD"},
      {ActionKind::add_header, "add-header", true, true, false, "add 'Name: value'"},
      {ActionKind::tag_subject, "tag-subject", true, true, false, "prefix the Subject with TAG"},
      {ActionKind::skip_model, "skip-model", false, false, false, "decide without the model"},
  };
  return table;
}

const ActionInfo& action_info(ActionKind k) { return action_table()[static_cast<size_t>(k)]; }

namespace {

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool no_controls(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

// An IMAP flag: a system flag (\Flagged, \Seen, \Answered) or a keyword atom.
std::string normalize_flag(std::string_view f) {
  if (f.starts_with("\\")) {
    std::string l = lower_ascii(f);
    if (l == "\\flagged") return "\\Flagged";
    if (l == "\\seen") return "\\Seen";
    if (l == "\\answered") return "\\Answered";
    throw RuleError("flag '" + std::string(f) +
                    "': the system flags allowed are \\Flagged, \\Seen and \\Answered");
  }
  if (f.empty()) throw RuleError("flag needs \\Flagged or a keyword");
  for (char c : f) {
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("(){%*\"\\]").find(c) != std::string_view::npos) {
      throw RuleError("flag '" + std::string(f) + "' is not a valid IMAP keyword");
    }
  }
  return std::string(f);
}

std::string trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Action Action::parse(std::string_view text) {
  std::string t = trim(text);
  auto sp = t.find_first_of(" \t");
  std::string name = lower_ascii(t.substr(0, sp));
  std::replace(name.begin(), name.end(), '_', '-');
  std::string arg = sp == std::string::npos ? "" : trim(t.substr(sp + 1));
  for (const auto& info : action_table()) {
    if (info.name == name) return normalize(Action{info.kind, arg});
  }
  std::string names;
  for (const auto& info : action_table())
    names += (names.empty() ? "" : ", ") + std::string(info.name);
  throw RuleError("unknown action '" + name + "' (known: " + names + ")");
}

std::string Action::str() const {
  std::string s(action_info(kind).name);
  if (!arg.empty()) s += " " + arg;
  return s;
}

Action normalize(Action a) {
  const auto& info = action_info(a.kind);
  a.arg = trim(a.arg);
  if (!info.takes_arg && !a.arg.empty()) {
    throw RuleError("action '" + std::string(info.name) + "' takes no argument (got '" + a.arg +
                    "')");
  }
  if (info.needs_arg && a.arg.empty()) {
    throw RuleError("action '" + std::string(info.name) +
                    "' needs an argument: " + std::string(info.help));
  }
  switch (a.kind) {
    case ActionKind::reject:
    case ActionKind::tempfail:
      if (a.arg.empty()) {
        a.arg =
            a.kind == ActionKind::reject ? "Message refused by local policy" : "Try again later";
      }
      if (!printable_ascii(a.arg) || a.arg.size() > 400) {
        throw RuleError("reply text '" + a.arg + "' must be printable ASCII, at most 400 bytes");
      }
      break;
    case ActionKind::move:
    case ActionKind::quarantine:
    case ActionKind::tag_subject:
      if (!no_controls(a.arg) || a.arg.size() > 200) {
        throw RuleError(std::string(info.name) + " argument '" + a.arg +
                        "' must be one line of at most 200 bytes");
      }
      break;
    case ActionKind::flag:
      a.arg = normalize_flag(a.arg);
      break;
    case ActionKind::add_header: {
      auto colon = a.arg.find(':');
      std::string name = trim(a.arg.substr(0, colon));
      bool ok = colon != std::string::npos && !name.empty() &&
                std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
      if (!ok) throw RuleError("add-header needs 'Name: value', got '" + a.arg + "'");
      std::string value = trim(a.arg.substr(colon + 1));
      if (!no_controls(value) || value.size() > 900) {
        throw RuleError("header value in '" + a.arg + "' must be one line of at most 900 bytes");
      }
      a.arg = name + ": " + value;
      break;
    }
    default:
      break;
  }
  return a;
}

// ---- rules ---------------------------------------------------------------

namespace {

std::string checked_name(std::string_view what, std::string_view s, size_t max) {
  if (!no_controls(s) || s.size() > max) {
    throw RuleError(std::string(what) + " '" + std::string(s) + "' must be one line of at most " +
                    std::to_string(max) + " bytes");
  }
  return std::string(s);
}

std::string checked_list_name(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (!ok) {
    throw RuleError("list name '" + std::string(s) +
                    "' must be 1-64 characters of a-z, 0-9, '-' and '_'");
  }
  return std::string(s);
}

void check_probability(std::string_view what, double v) {
  if (!(v >= 0.0 && v <= 1.0)) {
    throw RuleError(std::string(what) + " " + format_number(v) + " is outside [0, 1]");
  }
}

}  // namespace

Rule normalize(Rule r) {
  std::string where = r.id ? "rule " + std::to_string(r.id) : std::string("rule");
  try {
    r.name = checked_name("name", r.name, 200);
    r.key = normalize_scope_key(r.scope, r.key);
    if (r.priority < -1000000 || r.priority > 1000000) {
      throw RuleError("priority " + std::to_string(r.priority) + " is outside -1000000..1000000");
    }
    Match& m = r.match;
    for (auto& s : m.sender) s = AddressPattern::parse(s).str();
    for (auto& s : m.recipient) {
      auto p = AddressPattern::parse(s);
      if (p.kind == AddressPattern::Kind::null_sender) {
        throw RuleError("'<>' (the null sender) cannot be a recipient");
      }
      s = p.str();
    }
    for (auto& t : m.tenant) t = checked_name("tenant", t, 100);
    for (auto& u : m.auth_user) u = checked_name("auth_user", u, 200);
    for (auto& c : m.client_ip) c = Cidr::parse(c).str();
    for (auto& h : m.headers) {
      h.name = trim(h.name);
      bool ok = !h.name.empty() && std::all_of(h.name.begin(), h.name.end(), [](char c) {
        return c > 0x20 && c < 0x7f && c != ':';
      });
      if (!ok) throw RuleError("bad header name '" + h.name + "'");
      if (h.regex) {
        if (h.value.size() > 1000) throw RuleError("regex for " + h.name + " is over 1000 bytes");
        try {
          auto flags =
              std::regex::ECMAScript | (h.nocase ? std::regex::icase : std::regex::flag_type{});
          std::regex re(h.value, flags);
        } catch (const std::regex_error& e) {
          throw RuleError("bad regex '" + h.value + "' for header " + h.name + ": " + e.what());
        }
      } else {
        h.value = trim(h.value);
      }
    }
    if (m.size_min && m.size_max && *m.size_min >= *m.size_max) {
      throw RuleError("size range [" + std::to_string(*m.size_min) + ", " +
                      std::to_string(*m.size_max) + ") is empty");
    }
    if (!m.list.empty()) {
      m.list = checked_list_name(m.list);
      if (m.list == kAllowList || m.list == kBlockList) {
        throw RuleError("the " + m.list +
                        " list is consulted before every rule; a rule cannot match on it");
      }
    }
    if (m.probability) {
      Band& b = *m.probability;
      check_probability("band lower edge", b.lo);
      if (!(b.hi > b.lo)) {
        throw RuleError("probability band [" + format_number(b.lo) + ", " + format_number(b.hi) +
                        ") is empty");
      }
      if (b.hi > 1.0) b.hi = 1.0;
    }
    if (r.actions.empty()) throw RuleError("a rule needs at least one action");
    int dispositions = 0;
    bool modifiers = false, skip = false;
    for (auto& a : r.actions) {
      a = normalize(a);
      const auto& info = action_info(a.kind);
      if (info.disposition) ++dispositions;
      if (a.kind == ActionKind::flag || a.kind == ActionKind::add_header ||
          a.kind == ActionKind::tag_subject) {
        modifiers = true;
      }
      if (a.kind == ActionKind::skip_model) skip = true;
    }
    if (dispositions > 1) {
      throw RuleError(
          "a rule has at most one of accept, reject, tempfail, discard, quarantine, move");
    }
    for (const auto& a : r.actions) {
      if ((a.kind == ActionKind::reject || a.kind == ActionKind::tempfail ||
           a.kind == ActionKind::discard) &&
          modifiers) {
        throw RuleError("flag, add-header and tag-subject have no effect with " + a.str());
      }
    }
    if (skip && m.probability) {
      throw RuleError("skip-model cannot be combined with a probability band");
    }
  } catch (const RuleError& e) {
    throw RuleError(where + ": " + e.what());
  }
  return r;
}

ListEntry normalize(ListEntry e) {
  e.list = checked_list_name(e.list);
  e.key = normalize_scope_key(e.scope, e.key);
  std::string raw = trim(e.entry);
  if (raw.empty()) throw RuleError("empty list entry");
  if (looks_like_ip(raw)) {
    e.entry = Cidr::parse(raw).str();
  } else {
    e.entry = AddressPattern::parse(raw).str();
  }
  e.comment = checked_name("comment", e.comment, 200);
  return e;
}

ThresholdEntry normalize(ThresholdEntry t) {
  t.key = normalize_scope_key(t.scope, t.key);
  if (t.t.spam) check_probability("spam threshold", *t.t.spam);
  if (t.t.suspect) check_probability("suspect threshold", *t.t.suspect);
  if (t.t.spam && t.t.suspect && *t.t.suspect > *t.t.spam) {
    throw RuleError("suspect threshold " + format_number(*t.t.suspect) +
                    " is above the spam threshold " + format_number(*t.t.spam) + " (" +
                    scope_label(t.scope, t.key) + ")");
  }
  return t;
}

Settings normalize(Settings s) {
  if (s.spam_folder.empty()) throw RuleError("spam_folder is empty");
  s.spam_folder = normalize(Action{ActionKind::move, s.spam_folder}).arg;
  s.suspect_keyword = normalize_flag(s.suspect_keyword);
  s.block_text = normalize(Action{ActionKind::reject, s.block_text}).arg;
  if (s.max_regex_input < 16 || s.max_regex_input > (1 << 20)) {
    throw RuleError("max_regex_input " + std::to_string(s.max_regex_input) +
                    " is outside 16..1048576");
  }
  return s;
}

Tenant normalize(Tenant t) {
  t.name = checked_name("tenant", t.name, 100);
  if (t.name.empty() || t.name.find_first_of(" \t") != std::string::npos) {
    throw RuleError("tenant name '" + t.name + "' must be non-empty without spaces");
  }
  t.description = checked_name("description", t.description, 200);
  return t;
}

Config normalize(Config c) {
  c.settings = normalize(c.settings);
  std::vector<ThresholdEntry> th;
  for (auto& t : c.thresholds) {
    auto n = normalize(t);
    if (n.t.spam || n.t.suspect) th.push_back(std::move(n));
  }
  auto th_key = [](const ThresholdEntry& t) { return std::make_pair(t.scope, t.key); };
  std::sort(th.begin(), th.end(), [&](auto& a, auto& b) { return th_key(a) < th_key(b); });
  for (size_t i = 1; i < th.size(); ++i) {
    if (th_key(th[i]) == th_key(th[i - 1])) {
      throw RuleError("two threshold entries for " + scope_label(th[i].scope, th[i].key));
    }
  }
  c.thresholds = std::move(th);
  for (auto& t : c.tenants) t = normalize(t);
  std::sort(c.tenants.begin(), c.tenants.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (size_t i = 1; i < c.tenants.size(); ++i) {
    if (c.tenants[i].name == c.tenants[i - 1].name) {
      throw RuleError("tenant '" + c.tenants[i].name + "' appears twice");
    }
  }
  for (auto& e : c.lists) e = normalize(e);
  auto le_key = [](const ListEntry& e) { return std::tie(e.list, e.scope, e.key, e.entry); };
  std::sort(c.lists.begin(), c.lists.end(),
            [&](auto& a, auto& b) { return le_key(a) < le_key(b); });
  for (size_t i = 1; i < c.lists.size(); ++i) {
    if (le_key(c.lists[i]) == le_key(c.lists[i - 1])) {
      throw RuleError("list entry '" + c.lists[i].entry + "' appears twice in the " +
                      c.lists[i].list + " list (" + scope_label(c.lists[i].scope, c.lists[i].key) +
                      ")");
    }
  }
  for (auto& r : c.rules) r = normalize(r);
  std::stable_sort(c.rules.begin(), c.rules.end(), [](auto& a, auto& b) {
    return std::make_pair(a.id == 0, a.id) < std::make_pair(b.id == 0, b.id);
  });
  for (size_t i = 1; i < c.rules.size(); ++i) {
    if (c.rules[i].id != 0 && c.rules[i].id == c.rules[i - 1].id) {
      throw RuleError("rule id " + std::to_string(c.rules[i].id) + " appears twice");
    }
  }
  return c;
}

// ---- description -----------------------------------------------------------

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string describe(const Rule& r) {
  std::string s = r.id ? "rule " + std::to_string(r.id) : std::string("new rule");
  if (!r.name.empty()) s += " \"" + r.name + "\"";
  s += " (" + scope_label(r.scope, r.key) + ", priority " + std::to_string(r.priority) + ")";
  std::vector<std::string> parts;
  const Match& m = r.match;
  if (!m.sender.empty()) parts.push_back("sender in {" + join(m.sender) + "}");
  if (!m.recipient.empty()) parts.push_back("recipient in {" + join(m.recipient) + "}");
  if (!m.tenant.empty()) parts.push_back("tenant in {" + join(m.tenant) + "}");
  if (m.authenticated) parts.push_back(*m.authenticated ? "authenticated" : "not authenticated");
  if (!m.auth_user.empty()) parts.push_back("auth user in {" + join(m.auth_user) + "}");
  if (!m.client_ip.empty()) parts.push_back("client IP in {" + join(m.client_ip) + "}");
  for (const auto& h : m.headers) {
    parts.push_back("header " + h.name + (h.regex ? " ~ /" : " = \"") + h.value +
                    (h.regex ? "/" : "\"") + (h.nocase ? " (nocase)" : ""));
  }
  if (m.size_min || m.size_max) {
    parts.push_back("size in [" + (m.size_min ? std::to_string(*m.size_min) : "0") + ", " +
                    (m.size_max ? std::to_string(*m.size_max) : "inf") + ")");
  }
  if (!m.list.empty()) parts.push_back("sender or client IP on list " + m.list);
  if (m.probability) {
    parts.push_back("p in [" + format_number(m.probability->lo) + ", " +
                    format_number(m.probability->hi) + (m.probability->hi >= 1.0 ? "]" : ")"));
  }
  s += parts.empty() ? ": matches every message" : ": " + join(parts);
  return s;
}

// ---- settings by name ------------------------------------------------------

std::vector<std::string> setting_names() {
  return {"spam_folder", "suspect_keyword", "suspect_flagged", "block_text", "max_regex_input"};
}

std::string get_setting(const Settings& s, std::string_view name) {
  if (name == "spam_folder") return s.spam_folder;
  if (name == "suspect_keyword") return s.suspect_keyword;
  if (name == "suspect_flagged") return s.suspect_flagged ? "true" : "false";
  if (name == "block_text") return s.block_text;
  if (name == "max_regex_input") return std::to_string(s.max_regex_input);
  throw RuleError("unknown setting '" + std::string(name) + "'");
}

void set_setting(Settings& s, std::string_view name, std::string_view value) {
  Settings n = s;
  if (name == "spam_folder") {
    n.spam_folder = value;
  } else if (name == "suspect_keyword") {
    n.suspect_keyword = value;
  } else if (name == "suspect_flagged") {
    auto b = parse_bool(value);
    if (!b)
      throw RuleError("suspect_flagged must be true or false, not '" + std::string(value) + "'");
    n.suspect_flagged = *b;
  } else if (name == "block_text") {
    n.block_text = value;
  } else if (name == "max_regex_input") {
    auto v = parse_int(value);
    if (!v) throw RuleError("max_regex_input must be an integer, not '" + std::string(value) + "'");
    n.max_regex_input = *v;
  } else {
    throw RuleError("unknown setting '" + std::string(name) + "'");
  }
  s = normalize(n);
}

// ---- JSON ------------------------------------------------------------------

namespace {

void check_keys(const json& j, std::initializer_list<std::string_view> allowed,
                std::string_view what) {
  if (!j.is_object()) throw RuleError(std::string(what) + " must be an object/table");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string known;
      for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      throw RuleError("unknown key '" + it.key() + "' in " + std::string(what) +
                      " (known: " + known + ")");
    }
  }
}

std::string get_string(const json& j, const char* key, std::string_view what,
                       std::string def = {}) {
  if (!j.contains(key)) return def;
  if (!j[key].is_string()) throw RuleError(std::string(what) + ": '" + key + "' must be a string");
  return j[key].get<std::string>();
}

int64_t get_int(const json& j, const char* key, std::string_view what, int64_t def) {
  if (!j.contains(key)) return def;
  if (!j[key].is_number_integer()) {
    throw RuleError(std::string(what) + ": '" + key + "' must be an integer");
  }
  return j[key].get<int64_t>();
}

uint64_t get_size(const json& j, const char* key, std::string_view what) {
  int64_t v = get_int(j, key, what, 0);
  if (v < 0) throw RuleError(std::string(what) + ": '" + key + "' must not be negative");
  return static_cast<uint64_t>(v);
}

double get_number(const json& j, const char* key, std::string_view what) {
  if (!j[key].is_number()) throw RuleError(std::string(what) + ": '" + key + "' must be a number");
  return j[key].get<double>();
}

bool get_bool(const json& j, const char* key, std::string_view what, bool def) {
  if (!j.contains(key)) return def;
  if (!j[key].is_boolean())
    throw RuleError(std::string(what) + ": '" + key + "' must be true or false");
  return j[key].get<bool>();
}

std::vector<std::string> get_strings(const json& j, const char* key, std::string_view what) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const json& v = j[key];
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array())
    throw RuleError(std::string(what) + ": '" + key + "' must be a list of strings");
  for (const auto& e : v) {
    if (!e.is_string())
      throw RuleError(std::string(what) + ": '" + key + "' must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

void put_strings(json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

// Reads the optional "domain" / "user" keys into a scope and key.
void get_scope(const json& j, std::string_view what, Scope& scope, std::string& key) {
  bool d = j.contains("domain"), u = j.contains("user");
  if (d && u) throw RuleError(std::string(what) + ": give 'domain' or 'user', not both");
  scope = d ? Scope::domain : u ? Scope::user : Scope::global;
  key = d ? get_string(j, "domain", what) : u ? get_string(j, "user", what) : "";
}

void put_scope(json& j, Scope scope, const std::string& key) {
  if (scope != Scope::global) j[std::string(scope_name(scope))] = key;
}

}  // namespace

json to_json(const Match& m) {
  json j = json::object();
  put_strings(j, "sender", m.sender);
  put_strings(j, "recipient", m.recipient);
  put_strings(j, "tenant", m.tenant);
  if (m.authenticated) j["authenticated"] = *m.authenticated;
  put_strings(j, "auth_user", m.auth_user);
  put_strings(j, "client_ip", m.client_ip);
  if (!m.headers.empty()) {
    json hs = json::array();
    for (const auto& h : m.headers) {
      json hj = {{"name", h.name}};
      hj[h.regex ? "regex" : "equals"] = h.value;
      if (h.nocase) hj["nocase"] = true;
      hs.push_back(hj);
    }
    j["headers"] = hs;
  }
  if (m.size_min) j["size_min"] = *m.size_min;
  if (m.size_max) j["size_max"] = *m.size_max;
  if (!m.list.empty()) j["list"] = m.list;
  if (m.probability) j["probability"] = {m.probability->lo, m.probability->hi};
  return j;
}

Match match_from_json(const json& j) {
  const char* what = "match";
  check_keys(j,
             {"sender", "recipient", "tenant", "authenticated", "auth_user", "client_ip", "headers",
              "size_min", "size_max", "list", "probability"},
             what);
  Match m;
  m.sender = get_strings(j, "sender", what);
  m.recipient = get_strings(j, "recipient", what);
  m.tenant = get_strings(j, "tenant", what);
  if (j.contains("authenticated")) m.authenticated = get_bool(j, "authenticated", what, false);
  m.auth_user = get_strings(j, "auth_user", what);
  m.client_ip = get_strings(j, "client_ip", what);
  if (j.contains("headers")) {
    if (!j["headers"].is_array()) throw RuleError("match: 'headers' must be a list of tables");
    for (const auto& hj : j["headers"]) {
      check_keys(hj, {"name", "equals", "regex", "nocase"}, "header match");
      HeaderMatch h;
      h.name = get_string(hj, "name", "header match");
      if (hj.contains("equals") == hj.contains("regex")) {
        throw RuleError("header match for '" + h.name + "' needs exactly one of equals, regex");
      }
      h.regex = hj.contains("regex");
      h.value = get_string(hj, h.regex ? "regex" : "equals", "header match");
      h.nocase = get_bool(hj, "nocase", "header match", false);
      m.headers.push_back(h);
    }
  }
  if (j.contains("size_min")) m.size_min = get_size(j, "size_min", what);
  if (j.contains("size_max")) m.size_max = get_size(j, "size_max", what);
  m.list = get_string(j, "list", what);
  if (j.contains("probability")) {
    const json& p = j["probability"];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
      throw RuleError("match: 'probability' must be [low, high]");
    }
    m.probability = Band{p[0].get<double>(), p[1].get<double>()};
  }
  return m;
}

json to_json(const std::vector<Action>& actions) {
  json a = json::array();
  for (const auto& x : actions) a.push_back(x.str());
  return a;
}

std::vector<Action> actions_from_json(const json& j) {
  if (!j.is_array()) throw RuleError("'actions' must be a list of strings like \"move Junk\"");
  std::vector<Action> out;
  for (const auto& a : j) {
    if (!a.is_string()) throw RuleError("'actions' must be a list of strings like \"move Junk\"");
    out.push_back(Action::parse(a.get<std::string>()));
  }
  return out;
}

json to_json(const Rule& r) {
  json j = json::object();
  if (r.id) j["id"] = r.id;
  if (!r.name.empty()) j["name"] = r.name;
  put_scope(j, r.scope, r.key);
  j["priority"] = r.priority;
  j["enabled"] = r.enabled;
  j["match"] = to_json(r.match);
  j["actions"] = to_json(r.actions);
  return j;
}

Rule rule_from_json(const json& j) {
  std::string what = "rule";
  if (j.is_object() && j.contains("id") && j["id"].is_number_integer()) {
    what += " " + std::to_string(j["id"].get<int64_t>());
  }
  check_keys(j, {"id", "name", "domain", "user", "priority", "enabled", "match", "actions"}, what);
  Rule r;
  r.id = get_int(j, "id", what, 0);
  if (r.id < 0) throw RuleError(what + ": 'id' must be positive");
  r.name = get_string(j, "name", what);
  get_scope(j, what, r.scope, r.key);
  int64_t prio = get_int(j, "priority", what, 100);
  if (prio < -1000000 || prio > 1000000) throw RuleError(what + ": priority out of range");
  r.priority = static_cast<int>(prio);
  r.enabled = get_bool(j, "enabled", what, true);
  if (j.contains("match")) r.match = match_from_json(j["match"]);
  if (!j.contains("actions")) throw RuleError(what + ": 'actions' is missing");
  r.actions = actions_from_json(j["actions"]);
  return r;
}

json to_json(const ListEntry& e) {
  json j = {{"list", e.list}};
  put_scope(j, e.scope, e.key);
  j["entry"] = e.entry;
  if (!e.comment.empty()) j["comment"] = e.comment;
  return j;
}

ListEntry list_entry_from_json(const json& j) {
  check_keys(j, {"list", "domain", "user", "entry", "comment"}, "list entry");
  ListEntry e;
  e.list = get_string(j, "list", "list entry");
  get_scope(j, "list entry", e.scope, e.key);
  e.entry = get_string(j, "entry", "list entry");
  e.comment = get_string(j, "comment", "list entry");
  return e;
}

json to_json(const ThresholdEntry& t) {
  json j = json::object();
  put_scope(j, t.scope, t.key);
  if (t.t.spam) j["spam"] = *t.t.spam;
  if (t.t.suspect) j["suspect"] = *t.t.suspect;
  return j;
}

ThresholdEntry threshold_from_json(const json& j) {
  check_keys(j, {"domain", "user", "spam", "suspect"}, "thresholds");
  ThresholdEntry t;
  get_scope(j, "thresholds", t.scope, t.key);
  if (j.contains("spam")) t.t.spam = get_number(j, "spam", "thresholds");
  if (j.contains("suspect")) t.t.suspect = get_number(j, "suspect", "thresholds");
  return t;
}

json to_json(const Settings& s) {
  return {{"spam_folder", s.spam_folder},
          {"suspect_keyword", s.suspect_keyword},
          {"suspect_flagged", s.suspect_flagged},
          {"block_text", s.block_text},
          {"max_regex_input", s.max_regex_input}};
}

Settings settings_from_json(const json& j) {
  check_keys(j,
             {"spam_folder", "suspect_keyword", "suspect_flagged", "block_text", "max_regex_input"},
             "settings");
  Settings s;
  s.spam_folder = get_string(j, "spam_folder", "settings", s.spam_folder);
  s.suspect_keyword = get_string(j, "suspect_keyword", "settings", s.suspect_keyword);
  s.suspect_flagged = get_bool(j, "suspect_flagged", "settings", s.suspect_flagged);
  s.block_text = get_string(j, "block_text", "settings", s.block_text);
  s.max_regex_input = get_int(j, "max_regex_input", "settings", s.max_regex_input);
  return s;
}

json to_json(const Tenant& t) {
  json j = {{"name", t.name}};
  if (!t.description.empty()) j["description"] = t.description;
  return j;
}

Tenant tenant_from_json(const json& j) {
  check_keys(j, {"name", "description"}, "tenant");
  return Tenant{get_string(j, "name", "tenant"), get_string(j, "description", "tenant")};
}

// Lists are grouped: one object per (list, scope), its entries a list of
// strings, or of {entry, comment} objects where a comment is set.
json to_json(const Config& c) {
  json j = json::object();
  j["settings"] = to_json(c.settings);
  j["thresholds"] = json::array();
  for (const auto& t : c.thresholds) j["thresholds"].push_back(to_json(t));
  j["tenants"] = json::array();
  for (const auto& t : c.tenants) j["tenants"].push_back(to_json(t));
  j["lists"] = json::array();
  for (size_t i = 0; i < c.lists.size();) {
    const auto& first = c.lists[i];
    json g = {{"list", first.list}};
    put_scope(g, first.scope, first.key);
    json entries = json::array();
    for (; i < c.lists.size() && c.lists[i].list == first.list && c.lists[i].scope == first.scope &&
           c.lists[i].key == first.key;
         ++i) {
      const auto& e = c.lists[i];
      if (e.comment.empty()) {
        entries.push_back(e.entry);
      } else {
        entries.push_back({{"entry", e.entry}, {"comment", e.comment}});
      }
    }
    g["entries"] = entries;
    j["lists"].push_back(g);
  }
  j["rules"] = json::array();
  for (const auto& r : c.rules) j["rules"].push_back(to_json(r));
  return j;
}

Config config_from_json(const json& j) {
  check_keys(j, {"settings", "thresholds", "tenants", "lists", "rules"}, "rules configuration");
  Config c;
  if (j.contains("settings")) c.settings = settings_from_json(j["settings"]);
  auto array = [&](const char* key) -> const json& {
    static const json empty = json::array();
    if (!j.contains(key)) return empty;
    if (!j[key].is_array()) throw RuleError(std::string("'") + key + "' must be a list");
    return j[key];
  };
  for (const auto& t : array("thresholds")) c.thresholds.push_back(threshold_from_json(t));
  for (const auto& t : array("tenants")) c.tenants.push_back(tenant_from_json(t));
  for (const auto& g : array("lists")) {
    check_keys(g, {"list", "domain", "user", "entries"}, "lists");
    ListEntry base;
    base.list = get_string(g, "list", "lists");
    get_scope(g, "lists", base.scope, base.key);
    if (!g.contains("entries") || !g["entries"].is_array()) {
      throw RuleError("lists: 'entries' must be a list");
    }
    for (const auto& e : g["entries"]) {
      ListEntry le = base;
      if (e.is_string()) {
        le.entry = e.get<std::string>();
      } else {
        check_keys(e, {"entry", "comment"}, "list entry");
        le.entry = get_string(e, "entry", "list entry");
        le.comment = get_string(e, "comment", "list entry");
      }
      c.lists.push_back(le);
    }
  }
  for (const auto& r : array("rules")) c.rules.push_back(rule_from_json(r));
  return c;
}

Thresholds& thresholds_for(Config& c, Scope scope, const std::string& key) {
  for (auto& t : c.thresholds)
    if (t.scope == scope && t.key == key) return t.t;
  c.thresholds.push_back({scope, key, {}});
  return c.thresholds.back().t;
}

}  // namespace sf::rules
