// cmd_rules.cpp: see cmd_rules.h. Argument parsing is table-driven: each
// subcommand names the options it takes, so an unknown or misplaced option
// is an error, and `--help` on any subcommand prints its table entry.
#include "service/cmd_rules.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "rules/errors.h"
#include "rules/store.h"
#include "rules/text.h"
#include "rules/toml_io.h"
#include "rules/what_if.h"
#include "service/scorer.h"

namespace sf::cli {
namespace {

namespace r = sf::rules;
using nlohmann::json;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Parsed {
  std::vector<std::string> pos;
  std::map<std::string, std::vector<std::string>> opts;
  std::set<std::string> flags;

  bool flag(const std::string& n) const { return flags.count(n) > 0; }
  bool has(const std::string& n) const { return opts.count(n) > 0; }
  const std::vector<std::string>& all(const std::string& n) const {
    static const std::vector<std::string> none;
    auto it = opts.find(n);
    return it == opts.end() ? none : it->second;
  }
  std::optional<std::string> one(const std::string& n) const {
    auto it = opts.find(n);
    if (it == opts.end()) return std::nullopt;
    if (it->second.size() > 1) throw UsageError("--" + n + " given more than once");
    return it->second.front();
  }
};

struct Env {
  std::ostream& out;
  std::ostream& err;
  std::string db;
  std::string actor;
  std::unique_ptr<r::Store> store;

  r::Store& open(bool create) {
    if (!store) {
      r::StoreOptions o;
      o.create = create;
      store = std::make_unique<r::Store>(db, o);
    }
    return *store;
  }
};

struct Command {
  std::string name;
  std::string usage;
  std::string summary;
  std::string details;
  std::vector<std::string> value_opts;
  std::vector<std::string> flag_opts;
  std::function<int(const Parsed&, Env&)> run;
};

Parsed parse(const std::vector<std::string>& args, size_t from, const Command& c) {
  Parsed p;
  std::vector<std::string> values = c.value_opts, flags = c.flag_opts;
  values.insert(values.end(), {"db", "actor"});
  flags.push_back("help");
  auto known = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h") {
      p.flags.insert("help");
      continue;
    }
    if (!a.starts_with("--") || a == "--") {
      p.pos.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (known(flags, name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      p.flags.insert(name);
    } else if (known(values, name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
        value = args[++i];
      }
      p.opts[name].push_back(value);
    } else {
      throw UsageError("unknown option --" + name + " for '" + c.name + "'");
    }
  }
  return p;
}

// ---- value parsing ---------------------------------------------------------

int64_t parse_id(const std::string& s) {
  auto v = r::parse_int(s);
  if (!v || *v <= 0) throw UsageError("bad rule id '" + s + "' (a positive integer)");
  return *v;
}

int64_t int_value(const std::string& opt, const std::string& s, int64_t min) {
  auto v = r::parse_int(s);
  if (!v || *v < min) {
    throw UsageError("bad value for " + opt + ": '" + s +
                     "' (an integer >= " + std::to_string(min) + ")");
  }
  return *v;
}

double probability_value(const std::string& what, const std::string& s) {
  auto v = r::parse_double(s);
  if (!v || !(*v >= 0.0 && *v <= 1.0)) {
    throw UsageError("bad value for " + what + ": '" + s + "' (a number from 0 to 1)");
  }
  return *v;
}

std::pair<r::Scope, std::string> scope_of(const Parsed& p) {
  auto d = p.one("domain"), u = p.one("user");
  if (d && u) throw UsageError("give --domain or --user, not both");
  if (d) return {r::Scope::domain, r::normalize_scope_key(r::Scope::domain, *d)};
  if (u) return {r::Scope::user, r::normalize_scope_key(r::Scope::user, *u)};
  return {r::Scope::global, ""};
}

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw r::StoreError("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string iso_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string actions_text(const std::vector<r::Action>& actions) {
  std::string s;
  for (const auto& a : actions) s += (s.empty() ? "" : ", ") + a.str();
  return s;
}

std::string rule_line(const r::Rule& rule) {
  return r::describe(rule) + " -> " + actions_text(rule.actions) +
         (rule.enabled ? "" : " [disabled]");
}

// ---- rule flags (add) ---------------------------------------------------------

const std::vector<std::string> kRuleValueOpts = {
    "name",     "domain",    "user",      "priority", "sender",        "recipient",
    "tenant",   "auth-user", "client-ip", "header",   "header-regex",  "size-min",
    "size-max", "list",      "band",      "action",   "authenticated", "file"};

const char* kRuleHelp =
    "  --domain D | --user U   scope of the rule (default: global)\n"
    "  --name TEXT             a name for people\n"
    "  --priority N            lower runs first within the scope (default 100)\n"
    "  --disabled              store it switched off\n"
    "  --sender P              envelope sender: user@x.example, x.example, *.x.example or <>\n"
    "  --recipient P           envelope recipient, same forms (repeatable, like --sender)\n"
    "  --tenant T              tenant name (repeatable)\n"
    "  --authenticated yes|no  SMTP AUTH was (not) used\n"
    "  --auth-user LOGIN       the authenticated login (repeatable)\n"
    "  --client-ip IP|CIDR     client address or network, IPv4 or IPv6 (repeatable)\n"
    "  --header 'Name: value'  a header with exactly this value (all given must match)\n"
    "  --header-regex 'Name: RE'  a header whose value matches the ECMAScript regex\n"
    "  --nocase                header comparisons ignore case\n"
    "  --size-min N, --size-max N  message size in bytes, [min, max)\n"
    "  --list NAME             sender or client IP is on the named list\n"
    "  --band LO[:HI]          probability band [LO, HI); without HI (or HI = 1): up to 1\n"
    "  --action 'KIND [ARG]'   repeatable, in order: accept, reject [TEXT], tempfail [TEXT],\n"
    "                          discard, quarantine [NOTE], move FOLDER, flag \\\\Flagged|KEYWORD,\n"
    "                          add-header 'Name: value', tag-subject TAG, skip-model\n"
    "  --file FILE|-           the rule as a TOML or JSON snippet instead of the flags\n";

std::pair<std::string, std::string> split_header(const std::string& opt, const std::string& s) {
  auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw UsageError("bad value for " + opt + ": '" + s + "' (expected 'Name: value')");
  }
  std::string value = s.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return {s.substr(0, colon), value};
}

r::Rule rule_from_flags(const Parsed& p) {
  r::Rule rule;
  auto [scope, key] = scope_of(p);
  rule.scope = scope;
  rule.key = key;
  rule.name = p.one("name").value_or("");
  if (auto v = p.one("priority")) {
    rule.priority = static_cast<int>(int_value("--priority", *v, -1000000));
  }
  rule.enabled = !p.flag("disabled");
  r::Match& m = rule.match;
  m.sender = p.all("sender");
  m.recipient = p.all("recipient");
  m.tenant = p.all("tenant");
  m.auth_user = p.all("auth-user");
  m.client_ip = p.all("client-ip");
  if (auto v = p.one("authenticated")) {
    auto b = r::parse_bool(*v);
    if (!b) throw UsageError("bad value for --authenticated: '" + *v + "' (yes or no)");
    m.authenticated = *b;
  }
  for (const auto& h : p.all("header")) {
    auto [n, v] = split_header("--header", h);
    m.headers.push_back({n, v, false, p.flag("nocase")});
  }
  for (const auto& h : p.all("header-regex")) {
    auto [n, v] = split_header("--header-regex", h);
    m.headers.push_back({n, v, true, p.flag("nocase")});
  }
  if (auto v = p.one("size-min")) m.size_min = int_value("--size-min", *v, 0);
  if (auto v = p.one("size-max")) m.size_max = int_value("--size-max", *v, 0);
  m.list = p.one("list").value_or("");
  if (auto v = p.one("band")) {
    auto colon = v->find(':');
    r::Band b;
    b.lo = probability_value("--band", v->substr(0, colon));
    b.hi = colon == std::string::npos || colon + 1 == v->size()
               ? 1.0
               : probability_value("--band", v->substr(colon + 1));
    m.probability = b;
  }
  for (const auto& a : p.all("action")) rule.actions.push_back(r::Action::parse(a));
  if (rule.actions.empty()) throw UsageError("a rule needs at least one --action");
  return rule;
}

// ---- subcommands -----------------------------------------------------------

int run_init(const Parsed&, Env& e) {
  auto& s = e.open(true);
  e.out << "rules database " << e.db << " ready (schema version " << s.schema_version() << ")\n";
  return 0;
}

int run_list(const Parsed& p, Env& e) {
  auto rules = e.open(false).rules();
  bool filter = p.has("domain") || p.has("user") || p.flag("global");
  auto [scope, key] = scope_of(p);
  json j = json::array();
  size_t n = 0;
  for (const auto& rule : rules) {
    if (filter && (rule.scope != scope || rule.key != key)) continue;
    ++n;
    if (p.flag("json")) {
      j.push_back(r::to_json(rule));
    } else {
      e.out << rule_line(rule) << "\n";
    }
  }
  if (p.flag("json")) {
    e.out << j.dump(2) << "\n";
  } else if (n == 0) {
    e.out << "no rules\n";
  }
  return 0;
}

int run_show(const Parsed& p, Env& e) {
  if (p.pos.size() != 1) throw UsageError("show needs one rule id");
  auto rule = e.open(false).rule(parse_id(p.pos[0]));
  if (p.flag("json")) {
    e.out << r::to_json(rule).dump(2) << "\n";
  } else {
    e.out << "# " << r::describe(rule) << "\n" << r::json_to_toml(r::to_json(rule));
  }
  return 0;
}

int run_add(const Parsed& p, Env& e) {
  if (!p.pos.empty())
    throw UsageError("add takes no positional arguments (got '" + p.pos[0] + "')");
  r::Rule rule;
  if (auto f = p.one("file")) {
    for (const auto& o : kRuleValueOpts) {
      if (o != "file" && p.has(o)) throw UsageError("--file cannot be combined with --" + o);
    }
    rule = r::rule_from_snippet(read_input(*f));
  } else {
    rule = rule_from_flags(p);
  }
  auto stored = e.open(true).add_rule(rule, e.actor);
  e.out << "added " << rule_line(stored) << "\n";
  return 0;
}

int run_remove(const Parsed& p, Env& e) {
  if (p.pos.size() != 1) throw UsageError("remove needs one rule id");
  int64_t id = parse_id(p.pos[0]);
  e.open(false).remove_rule(id, e.actor);
  e.out << "removed rule " << id << "\n";
  return 0;
}

int run_enable(const Parsed& p, Env& e, bool on) {
  if (p.pos.size() != 1)
    throw UsageError(std::string(on ? "enable" : "disable") + " needs one rule id");
  auto& s = e.open(false);
  auto rule = s.rule(parse_id(p.pos[0]));
  rule.enabled = on;
  e.out << (on ? "enabled " : "disabled ") << rule_line(s.update_rule(rule, e.actor)) << "\n";
  return 0;
}

std::string threshold_text(const r::ThresholdEntry& t) {
  std::string s = r::scope_label(t.scope, t.key) + ": spam ";
  s += t.t.spam ? r::format_number(*t.t.spam) : "inherited";
  s += ", suspect ";
  s += t.t.suspect ? r::format_number(*t.t.suspect) : "inherited";
  return s;
}

int run_set_threshold(const Parsed& p, Env& e) {
  if (p.pos.size() != 2) throw UsageError("set-threshold needs spam|suspect and a value");
  r::ThresholdKind kind;
  if (p.pos[0] == "spam") {
    kind = r::ThresholdKind::spam;
  } else if (p.pos[0] == "suspect") {
    kind = r::ThresholdKind::suspect;
  } else {
    throw UsageError("bad threshold '" + p.pos[0] + "' (spam or suspect)");
  }
  std::optional<double> value;
  if (p.pos[1] != "inherit") value = probability_value(p.pos[0] + " threshold", p.pos[1]);
  auto [scope, key] = scope_of(p);
  auto t = e.open(true).set_threshold(scope, key, kind, value, e.actor);
  e.out << threshold_text(t) << "\n";
  return 0;
}

int run_thresholds(const Parsed& p, Env& e) {
  auto ts = e.open(false).thresholds();
  if (p.flag("json")) {
    json j = json::array();
    for (const auto& t : ts) j.push_back(r::to_json(t));
    e.out << j.dump(2) << "\n";
    return 0;
  }
  e.out << "default: spam " << r::format_number(r::kDefaultSpam) << ", suspect "
        << r::format_number(r::kDefaultSuspect) << "\n";
  for (const auto& t : ts) e.out << threshold_text(t) << "\n";
  return 0;
}

int run_lists(const Parsed& p, Env& e) {
  if (p.pos.empty()) throw UsageError("lists needs show, add or remove");
  const std::string& verb = p.pos[0];
  auto [scope, key] = scope_of(p);
  if (verb == "show") {
    if (p.pos.size() > 2) throw UsageError("lists show takes at most one list name");
    std::string list = p.pos.size() == 2 ? p.pos[1] : "";
    bool filter = p.has("domain") || p.has("user") || p.flag("global");
    json j = json::array();
    size_t n = 0;
    for (const auto& le : e.open(false).list_entries(list)) {
      if (filter && (le.scope != scope || le.key != key)) continue;
      ++n;
      if (p.flag("json")) {
        j.push_back(r::to_json(le));
      } else {
        e.out << le.list << "  " << r::scope_label(le.scope, le.key) << "  " << le.entry
              << (le.comment.empty() ? "" : "  # " + le.comment) << "\n";
      }
    }
    if (p.flag("json")) {
      e.out << j.dump(2) << "\n";
    } else if (n == 0) {
      e.out << "no list entries\n";
    }
    return 0;
  }
  if (verb != "add" && verb != "remove") {
    throw UsageError("bad lists action '" + verb + "' (show, add or remove)");
  }
  if (p.pos.size() < 3) throw UsageError("lists " + verb + " needs a list name and entries");
  std::vector<r::ListEntry> entries;
  for (size_t i = 2; i < p.pos.size(); ++i) {
    entries.push_back({p.pos[1], scope, key, p.pos[i], p.one("comment").value_or("")});
  }
  auto& s = e.open(verb == "add");
  if (verb == "add") {
    for (const auto& le : s.add_list_entries(entries, e.actor)) {
      e.out << "added " << le.entry << " to the " << le.list << " list ("
            << r::scope_label(le.scope, le.key) << ")\n";
    }
  } else {
    s.remove_list_entries(entries, e.actor);
    for (size_t i = 2; i < p.pos.size(); ++i) {
      e.out << "removed " << p.pos[i] << " from the " << p.pos[1] << " list ("
            << r::scope_label(scope, key) << ")\n";
    }
  }
  return 0;
}

int run_tenants(const Parsed& p, Env& e) {
  std::string verb = p.pos.empty() ? "list" : p.pos[0];
  if (verb == "list") {
    auto ts = e.open(false).tenants();
    for (const auto& t : ts) {
      e.out << t.name << (t.description.empty() ? "" : "  " + t.description) << "\n";
    }
    if (ts.empty()) e.out << "no tenants\n";
    return 0;
  }
  if (p.pos.size() != 2) throw UsageError("tenants " + verb + " needs one tenant name");
  if (verb == "add") {
    e.open(true).add_tenant({p.pos[1], p.one("description").value_or("")}, e.actor);
    e.out << "added tenant " << p.pos[1] << "\n";
  } else if (verb == "remove") {
    e.open(false).remove_tenant(p.pos[1], e.actor);
    e.out << "removed tenant " << p.pos[1] << "\n";
  } else {
    throw UsageError("bad tenants action '" + verb + "' (list, add or remove)");
  }
  return 0;
}

int run_settings(const Parsed& p, Env& e) {
  if (p.pos.size() > 2) throw UsageError("settings takes at most a name and a value");
  if (p.pos.size() == 2) {
    auto& s = e.open(true);
    s.set_setting(p.pos[0], p.pos[1], e.actor);
    e.out << p.pos[0] << " = " << r::get_setting(s.settings(), p.pos[0]) << "\n";
    return 0;
  }
  auto settings = e.open(false).settings();
  for (const auto& name : r::setting_names()) {
    if (p.pos.size() == 1 && p.pos[0] != name) continue;
    e.out << name << " = " << r::get_setting(settings, name) << "\n";
  }
  if (p.pos.size() == 1) r::get_setting(settings, p.pos[0]);  // unknown name: RuleError
  return 0;
}

// ---- rules test --message ------------------------------------------------

// The header fields of a message (unfolded), as the daemon gives them to the
// rules: at most 64 KiB of header section and 500 fields.
std::vector<r::Header> message_headers(std::string_view m) {
  constexpr size_t kMaxHeaderBytes = 64 << 10, kMaxFields = 500;
  std::vector<r::Header> out;
  size_t pos = 0;
  while (pos < m.size() && pos < kMaxHeaderBytes && out.size() < kMaxFields) {
    size_t nl = m.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? m.size() : nl + 1;
    std::string text(m.substr(pos, line_end - pos));
    pos = line_end;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) break;  // end of the header section
    if (text[0] == ' ' || text[0] == '\t') {
      size_t b = text.find_first_not_of(" \t");
      if (!out.empty() && b != std::string::npos) out.back().value += " " + text.substr(b);
    } else if (size_t colon = text.find(':'); colon != std::string::npos && colon > 0) {
      std::string value = text.substr(colon + 1);
      size_t b = value.find_first_not_of(" \t");
      out.push_back({text.substr(0, colon), b == std::string::npos ? "" : value.substr(b)});
    }
  }
  return out;
}

std::string header_value(const std::vector<r::Header>& hs, std::string_view name) {
  for (const auto& h : hs) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return h.value;
  }
  return "";
}

// The first address of a header value: "Ann <ann@x.example>, ..." -> ann@x.example.
std::string first_address(const std::string& v) {
  size_t lt = v.find('<');
  if (lt != std::string::npos) {
    size_t gt = v.find('>', lt);
    if (gt != std::string::npos) return v.substr(lt + 1, gt - lt - 1);
  }
  std::string a = v.substr(0, v.find(','));
  size_t b = a.find_first_not_of(" \t"), e = a.find_last_not_of(" \t");
  a = b == std::string::npos ? "" : a.substr(b, e - b + 1);
  return a.find('@') == std::string::npos ? "" : a;
}

int run_test(const Parsed& p, Env& e) {
  const bool with_message = p.has("message");
  if (!with_message) {
    for (const char* o : {"model", "config", "backend"}) {
      if (p.has(o)) throw UsageError(std::string("--") + o + " goes with --message");
    }
  }
  r::Context ctx;
  if (auto f = p.one("context")) {
    try {
      ctx = r::context_from_json(json::parse(read_input(*f)));
    } catch (const json::parse_error& x) {
      throw UsageError(std::string("--context: JSON error: ") + x.what());
    }
  }
  std::string raw;
  json message_info;
  if (auto f = p.one("message")) {
    raw = read_input(*f);
    message_info["file"] = *f;
    // The file gives the headers, the size and, where neither the flags nor
    // --context do, the sender (From) and recipient (To).
    auto hs = message_headers(raw);
    if (ctx.sender.empty() && !p.has("from")) ctx.sender = first_address(header_value(hs, "From"));
    if (ctx.recipient.empty() && !p.has("to"))
      ctx.recipient = first_address(header_value(hs, "To"));
    ctx.headers.insert(ctx.headers.end(), hs.begin(), hs.end());
    ctx.size = raw.size();
  }
  if (auto v = p.one("from")) ctx.sender = *v;
  if (auto v = p.one("to")) ctx.recipient = *v;
  if (auto v = p.one("tenant")) ctx.tenant = *v;
  if (auto v = p.one("auth-user")) ctx.auth_user = *v;
  if (auto v = p.one("client-ip")) {
    ctx.client_ip = r::IpAddress::parse(*v);
    if (!ctx.client_ip) throw UsageError("bad value for --client-ip: '" + *v + "'");
  }
  if (auto v = p.one("prob")) ctx.probability = static_cast<float>(probability_value("--prob", *v));
  if (auto v = p.one("size")) ctx.size = static_cast<uint64_t>(int_value("--size", *v, 0));
  for (const auto& h : p.all("header")) {
    auto [n, v] = split_header("--header", h);
    ctx.headers.push_back({n, v});
  }
  if (ctx.recipient.empty()) {
    throw UsageError(with_message ? "test needs a recipient (--to, or a To: header in the message)"
                                  : "test needs a recipient (--to or in --context)");
  }
  r::Store& s = e.open(false);
  uint64_t generation = 0;
  r::Config config = s.load_config(&generation);
  auto rules = r::RuleSet::build(std::move(config), generation);
  // The model runs only when the lists and rules leave the decision to it,
  // and no --prob was given.
  if (with_message && !ctx.probability && !r::evaluate_before_model(ctx, *rules)) {
    service::ScorerOptions o;
    o.config_path = p.one("config").value_or("");
    o.model_path = p.one("model").value_or("");
    o.backend = p.one("backend").value_or("auto");
    std::unique_ptr<service::Scorer> scorer;
    try {
      scorer = service::open_scorer(o);
    } catch (const std::exception& x) {
      throw r::StoreError(std::string("no model available to score the message: ") + x.what() +
                          " (give --model FILE, or --prob P to skip the model)");
    }
    model::Prepared prepared = scorer->pipeline->prepare(raw);
    std::vector<const model::Prepared*> one{&prepared};
    ctx.probability = scorer->score(one)[0];
    message_info["model"] = scorer->model_path;
    message_info["probability"] = *ctx.probability;
    message_info["tokens"] = prepared.ids.size();
    message_info["flags"] = model::prepared_flag_names(prepared);
    if (!scorer->head_trained()) e.err << scorer->head_warning() << "\n";
  }
  json report = rules_test_report(ctx, *rules);
  if (with_message) report["message"] = message_info;
  e.out << report.dump(2) << "\n";
  return 0;
}

int run_export(const Parsed&, Env& e) {
  e.out << r::export_toml(e.open(false).load_config());
  return 0;
}

int run_import(const Parsed& p, Env& e) {
  if (p.pos.size() != 1) throw UsageError("import needs one FILE (or - for stdin)");
  r::Config c = r::import_toml(read_input(p.pos[0]));
  e.open(true).import_config(c, e.actor);
  e.out << "imported " << c.rules.size() << " rules, " << c.lists.size() << " list entries, "
        << c.thresholds.size() << " threshold entries, " << c.tenants.size()
        << " tenants (the previous configuration was replaced)\n";
  return 0;
}

int run_what_if(const Parsed& p, Env& e) {
  r::Store& s = e.open(false);
  uint64_t generation = 0;
  r::Config current = s.load_config(&generation);
  r::Config proposed = current;
  bool thresholds_only = true, any = false;
  auto [scope, key] = scope_of(p);
  if (p.has("spam") || p.has("suspect")) {
    any = true;
    r::Thresholds& slot = r::thresholds_for(proposed, scope, key);
    for (const char* kind : {"spam", "suspect"}) {
      if (auto v = p.one(kind)) {
        std::optional<double> value;
        if (*v != "inherit") value = probability_value(std::string("--") + kind, *v);
        (std::string(kind) == "spam" ? slot.spam : slot.suspect) = value;
      }
    }
  } else if (p.has("domain") || p.has("user")) {
    throw UsageError("--domain and --user go with --spam or --suspect");
  }
  for (const auto& id_text : p.all("remove-rule")) {
    any = true;
    thresholds_only = false;
    int64_t id = parse_id(id_text);
    auto it = std::find_if(proposed.rules.begin(), proposed.rules.end(),
                           [&](const auto& rule) { return rule.id == id; });
    if (it == proposed.rules.end()) throw r::NotFound("no rule with id " + id_text);
    proposed.rules.erase(it);
  }
  int64_t next_id = 1;
  for (const auto& rule : current.rules) next_id = std::max(next_id, rule.id + 1);
  for (const auto& f : p.all("add-rule")) {
    any = true;
    thresholds_only = false;
    r::Rule rule = r::rule_from_snippet(read_input(f));
    rule.id = next_id++;
    proposed.rules.push_back(rule);
  }
  if (!any)
    throw UsageError("what-if needs a change: --spam, --suspect, --remove-rule or --add-rule");
  int64_t since = 0;
  if (auto v = p.one("since-days")) {
    since = r::now_ms() - int_value("--since-days", *v, 0) * 86400000;
  }
  r::WhatIf w(r::RuleSet::build(current, generation), r::RuleSet::build(proposed), thresholds_only);
  s.for_each_verdict(since, [&](const r::Verdict& v) { w.add(v); });
  if (p.flag("json")) {
    e.out << r::to_json(w.report()).dump(2) << "\n";
  } else {
    e.out << r::to_text(w.report());
  }
  return 0;
}

int run_audit(const Parsed& p, Env& e) {
  int64_t limit = 20;
  if (auto v = p.one("limit")) limit = int_value("--limit", *v, 1);
  auto entries = e.open(false).audit(static_cast<size_t>(limit));
  if (p.flag("json")) {
    json j = json::array();
    for (const auto& a : entries) {
      j.push_back({{"id", a.id},
                   {"time", iso_time(a.time_ms)},
                   {"actor", a.actor},
                   {"action", a.action},
                   {"object", a.object},
                   {"before", a.before},
                   {"after", a.after}});
    }
    e.out << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& a : entries) {
    e.out << iso_time(a.time_ms) << "  " << a.actor << "  " << a.action << "  " << a.object << "\n";
  }
  if (entries.empty()) e.out << "no changes recorded\n";
  return 0;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"init",
       "init",
       "create the database, or migrate it to this version's schema",
       "",
       {},
       {},
       run_init},
      {"list",
       "list [--domain D|--user U|--global] [--json]",
       "list rules (in id order)",
       "  --domain D, --user U, --global  only the rules of this scope\n",
       {"domain", "user"},
       {"global", "json"},
       run_list},
      {"show",
       "show ID [--json]",
       "show one rule as a TOML snippet (or JSON)",
       "",
       {},
       {"json"},
       run_show},
      {"add",
       "add [RULE FLAGS | --file FILE]",
       "add a rule; prints its id",
       kRuleHelp,
       kRuleValueOpts,
       {"disabled", "nocase"},
       run_add},
      {"remove", "remove ID", "remove a rule", "", {}, {}, run_remove},
      {"enable",
       "enable ID",
       "switch a rule on",
       "",
       {},
       {},
       [](const Parsed& p, Env& e) { return run_enable(p, e, true); }},
      {"disable",
       "disable ID",
       "switch a rule off (kept, not evaluated)",
       "",
       {},
       {},
       [](const Parsed& p, Env& e) { return run_enable(p, e, false); }},
      {"set-threshold",
       "set-threshold [--domain D|--user U] spam|suspect VALUE|inherit",
       "set a band edge for a scope (inclusive lower bound); inherit removes it",
       "  spam: p >= spam goes to the spam folder (default 0.9)\n"
       "  suspect: suspect <= p < spam is flagged (default 0.5)\n",
       {"domain", "user"},
       {},
       run_set_threshold},
      {"thresholds",
       "thresholds [--json]",
       "show the thresholds set per scope",
       "",
       {},
       {"json"},
       run_thresholds},
      {"lists",
       "lists show [LIST] | lists add|remove LIST ENTRY... [--domain D|--user U]",
       "show or change allow, block and named lists",
       "  LIST: allow, block (consulted before every rule; block beats allow), or a name\n"
       "        rules can match with --list\n"
       "  ENTRY: user@x.example, x.example, *.x.example, <>, an IP or a CIDR network\n"
       "  --comment TEXT   a note stored with added entries\n"
       "  --global         with show: only global entries\n",
       {"domain", "user", "comment"},
       {"global", "json"},
       run_lists},
      {"tenants",
       "tenants list | add NAME [--description T] | remove NAME",
       "show or change the tenants",
       "",
       {"description"},
       {},
       run_tenants},
      {"settings",
       "settings [NAME [VALUE]]",
       "show or change a setting",
       "  spam_folder (Junk), suspect_keyword ($Suspect), suspect_flagged (false),\n"
       "  block_text, max_regex_input (1024 bytes of a header a regex sees)\n",
       {},
       {},
       run_settings},
      {"test",
       "test --to ADDR [--from ADDR] [--prob P] [--client-ip IP] [--header 'N: v']... [--size N]"
       " [--tenant T] [--auth-user U] [--context FILE] [--message FILE [--model FILE]"
       " [--config FILE] [--backend B]]",
       "evaluate a context and print the decision with its reason as JSON",
       "  --context FILE|-  the context as JSON (flags given too override it)\n"
       "  without --prob the model's probability is unknown: the decision is the one\n"
       "  taken when the model did not run\n"
       "  --message FILE|-  a raw message: its headers and size go into the context, its\n"
       "                    From/To give the sender/recipient the flags do not, and the\n"
       "                    model scores it (unless a list or rule decides first, or --prob)\n"
       "  --model FILE      the model for --message (default: the config's, else\n"
       "                    the default model path); --config FILE, --backend B as for classify\n",
       {"from", "to", "prob", "client-ip", "header", "size", "tenant", "auth-user", "context",
        "message", "model", "config", "backend"},
       {},
       run_test},
      {"export",
       "export",
       "write the whole configuration as TOML to stdout",
       "",
       {},
       {},
       run_export},
      {"import",
       "import FILE|-",
       "replace the whole configuration with a TOML file",
       "",
       {},
       {},
       run_import},
      {"what-if",
       "what-if [--domain D|--user U] [--spam V] [--suspect V] [--remove-rule ID]..."
       " [--add-rule FILE]... [--since-days N] [--json]",
       "replay the verdict log under a proposed change and count changed outcomes",
       "  --spam V, --suspect V  proposed threshold for the scope (or inherit)\n"
       "  --remove-rule ID       proposed removal\n"
       "  --add-rule FILE        proposed rule (TOML or JSON snippet)\n"
       "  --since-days N         only verdicts of the last N days\n",
       {"domain", "user", "spam", "suspect", "remove-rule", "add-rule", "since-days"},
       {"json"},
       run_what_if},
      {"audit",
       "audit [--limit N] [--json]",
       "recent changes, newest first (JSON: before/after)",
       "",
       {"limit"},
       {"json"},
       run_audit},
  };
  return table;
}

void print_usage(std::ostream& out) {
  out << "usage: spamformer rules [--db PATH] [--actor NAME] COMMAND [ARGS]\n"
         "  --db PATH     rules database (default $SPAMFORMER_RULES_DB or "
         "/var/lib/spamformer/rules.db)\n"
         "  --actor NAME  who makes the change, for the audit log (default $SUDO_USER or $USER)\n"
         "commands:\n";
  for (const auto& c : commands()) {
    out << "  " << c.name << std::string(c.name.size() < 14 ? 14 - c.name.size() : 1, ' ')
        << c.summary << "\n";
  }
  out << "`spamformer rules COMMAND --help` for a command's options.\n"
         "exit status: 0 done, 1 database refused or no such rule/entry, 2 bad usage or value\n";
}

std::string default_actor() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "unknown";
}

}  // namespace

nlohmann::json rules_test_report(const rules::Context& ctx, const rules::RuleSet& rules) {
  json j;
  j["context"] = r::to_json(ctx);
  auto before = r::evaluate_before_model(ctx, rules);
  j["model_needed"] = !before.has_value();
  j["decision"] = r::to_json(r::evaluate(ctx, rules));
  if (!ctx.probability && !before) {
    j["note"] = "no probability given: this is the decision taken when the model did not run";
  }
  j["rules_generation"] = rules.generation();
  return j;
}

int cmd_rules(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* env_db = std::getenv("SPAMFORMER_RULES_DB");
  Env env{out, err, env_db && *env_db ? env_db : "/var/lib/spamformer/rules.db", default_actor(),
          nullptr};
  std::string sub;
  try {
    size_t i = 0;
    for (; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--help" || a == "-h" || a == "help") {
        print_usage(out);
        return 0;
      }
      if (a == "--db" || a == "--actor") {
        if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
        (a == "--db" ? env.db : env.actor) = args[++i];
      } else if (a.starts_with("--db=")) {
        env.db = a.substr(5);
      } else if (a.starts_with("--actor=")) {
        env.actor = a.substr(8);
      } else if (a.starts_with("-")) {
        throw UsageError("unknown option " + a);
      } else {
        break;
      }
    }
    if (i == args.size()) {
      print_usage(err);
      return 2;
    }
    sub = args[i];
    auto it = std::find_if(commands().begin(), commands().end(),
                           [&](const Command& c) { return c.name == sub; });
    if (it == commands().end()) {
      sub.clear();
      throw UsageError("unknown command '" + args[i] + "'");
    }
    Parsed p = parse(args, i + 1, *it);
    if (p.flag("help")) {
      out << "usage: spamformer rules [--db PATH] " << it->usage << "\n"
          << it->summary << "\n"
          << it->details;
      return 0;
    }
    if (auto v = p.one("db")) env.db = *v;
    if (auto v = p.one("actor")) env.actor = *v;
    if (env.actor.empty()) throw UsageError("--actor must not be empty");
    return it->run(p, env);
  } catch (const UsageError& x) {
    err << "spamformer rules: " << x.what() << "\n"
        << "(see: spamformer rules " << (sub.empty() ? "" : sub + " ") << "--help)\n";
    return 2;
  } catch (const r::RuleError& x) {
    err << "spamformer rules: " << x.what() << "\n";
    return 2;
  } catch (const r::NotFound& x) {
    err << "spamformer rules: " << x.what() << "\n";
    return 1;
  } catch (const r::StoreError& x) {
    err << "spamformer rules: " << x.what() << "\n";
    return 1;
  } catch (const std::exception& x) {
    err << "spamformer rules: " << x.what() << "\n";
    return 1;
  }
}

int cmd_rules(const std::vector<std::string>& args) {
  return cmd_rules(args, std::cout, std::cerr);
}

}  // namespace sf::cli
