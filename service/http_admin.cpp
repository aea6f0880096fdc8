// http_admin.cpp: see http_admin.h.
#include "service/http_admin.h"

#include <algorithm>
#include <memory>

#include "rules/errors.h"
#include "rules/rule_set.h"
#include "rules/store.h"
#include "rules/text.h"
#include "rules/toml_io.h"
#include "rules/verdict.h"
#include "rules/what_if.h"

namespace sf::service {
namespace {

namespace r = sf::rules;
using nlohmann::json;

constexpr std::string_view kPrefix = "/v1/admin/";

struct MethodNotAllowed {};

// "/v1/admin/rules/12" -> {"rules", "12"}; {"", ""} for other paths.
std::pair<std::string, std::string> split_path(std::string_view path) {
  if (path.substr(0, kPrefix.size()) != kPrefix) return {};
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  std::string res(path.substr(0, slash));
  std::string rest = slash == std::string_view::npos ? "" : std::string(path.substr(slash + 1));
  return {res, rest};
}

json parse_body(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw r::RuleError("the body must be a JSON object");
  return j;
}

std::string str_field(const json& j, const char* k) {
  if (!j.contains(k) || j[k].is_null()) return "";
  if (!j[k].is_string()) throw r::RuleError(std::string("field '") + k + "' must be a string");
  return j[k].get<std::string>();
}

void only_fields(const json& j, std::initializer_list<std::string_view> allowed) {
  for (auto& [k, v] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw r::RuleError("unknown field '" + k + "'");
  }
}

std::pair<r::Scope, std::string> scope_of(const json& j) {
  std::string d = str_field(j, "domain"), u = str_field(j, "user");
  if (!d.empty() && !u.empty()) throw r::RuleError("give domain or user, not both");
  if (!d.empty()) return {r::Scope::domain, r::normalize_scope_key(r::Scope::domain, d)};
  if (!u.empty()) return {r::Scope::user, r::normalize_scope_key(r::Scope::user, u)};
  return {r::Scope::global, ""};
}

std::optional<double> probability(const json& v, const std::string& what) {
  if (v.is_null() || (v.is_string() && v.get<std::string>() == "inherit")) return std::nullopt;
  if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 1.0))
    throw r::RuleError(what + " must be a number from 0 to 1 (or null/\"inherit\")");
  return v.get<double>();
}

int64_t rule_id(const std::string& s) {
  auto v = r::parse_int(s);
  if (!v || *v <= 0) throw r::RuleError("bad rule id '" + s + "' (a positive integer)");
  return *v;
}

std::unique_ptr<r::Store> open_store(const std::string& path) {
  r::StoreOptions o;
  o.create = false;
  o.verify = false;  // the daemon verified it at start; admin calls stay cheap
  return std::make_unique<r::Store>(path, o);
}

std::string first(const std::multimap<std::string, std::string>& q, const std::string& k) {
  auto it = q.find(k);
  return it == q.end() ? "" : it->second;
}

AdminResult rules_endpoint(r::Store& s, const AdminRequest& req, const std::string& rest) {
  AdminResult out;
  if (rest.empty()) {
    if (req.method == "GET") {
      json j = json::array();
      for (const auto& rule : s.rules()) j.push_back(r::to_json(rule));
      out.reply = json_reply(200, j);
    } else if (req.method == "POST") {
      r::Rule rule = r::rule_from_json(parse_body(req.body));
      if (rule.id != 0) throw r::RuleError("a new rule must not carry an id");
      out.reply = json_reply(201, r::to_json(s.add_rule(rule, req.actor)));
      out.changed = true;
    } else {
      throw MethodNotAllowed{};
    }
    return out;
  }
  int64_t id = rule_id(rest);
  if (req.method == "GET") {
    out.reply = json_reply(200, r::to_json(s.rule(id)));
  } else if (req.method == "DELETE") {
    s.remove_rule(id, req.actor);
    out.reply = json_reply(200, {{"removed", id}});
    out.changed = true;
  } else {
    throw MethodNotAllowed{};
  }
  return out;
}

AdminResult thresholds_endpoint(r::Store& s, const AdminRequest& req) {
  AdminResult out;
  if (req.method == "GET") {
    json j = json::array();
    for (const auto& t : s.thresholds()) j.push_back(r::to_json(t));
    out.reply = json_reply(200, j);
    return out;
  }
  if (req.method != "POST") throw MethodNotAllowed{};
  json j = parse_body(req.body);
  only_fields(j, {"kind", "value", "domain", "user"});
  std::string kind_text = str_field(j, "kind");
  r::ThresholdKind kind;
  if (kind_text == "spam") {
    kind = r::ThresholdKind::spam;
  } else if (kind_text == "suspect") {
    kind = r::ThresholdKind::suspect;
  } else {
    throw r::RuleError("kind must be spam or suspect");
  }
  if (!j.contains("value")) throw r::RuleError("value is required (a number, or null to inherit)");
  auto value = probability(j["value"], "value");
  auto [scope, key] = scope_of(j);
  out.reply = json_reply(200, r::to_json(s.set_threshold(scope, key, kind, value, req.actor)));
  out.changed = true;
  return out;
}

AdminResult lists_endpoint(r::Store& s, const AdminRequest& req) {
  AdminResult out;
  if (req.method == "GET") {
    auto m = route_request("GET", req.target);
    json j = json::array();
    for (const auto& le : s.list_entries(first(m.query, "list"))) j.push_back(r::to_json(le));
    out.reply = json_reply(200, j);
    return out;
  }
  if (req.method != "POST" && req.method != "DELETE") throw MethodNotAllowed{};
  json j = parse_body(req.body);
  only_fields(j, {"list", "entries", "domain", "user", "comment"});
  std::string list = str_field(j, "list");
  if (list.empty()) throw r::RuleError("list is required");
  if (!j.contains("entries") || !j["entries"].is_array() || j["entries"].empty())
    throw r::RuleError("entries must be a non-empty array of strings");
  auto [scope, key] = scope_of(j);
  std::string comment = str_field(j, "comment");
  std::vector<r::ListEntry> entries;
  for (const auto& e : j["entries"]) {
    if (!e.is_string()) throw r::RuleError("entries must be strings");
    entries.push_back({list, scope, key, e.get<std::string>(), comment});
  }
  if (req.method == "POST") {
    json added = json::array();
    for (const auto& le : s.add_list_entries(entries, req.actor)) added.push_back(r::to_json(le));
    out.reply = json_reply(201, {{"added", added}});
  } else {
    s.remove_list_entries(entries, req.actor);
    out.reply = json_reply(200, {{"removed", entries.size()}});
  }
  out.changed = true;
  return out;
}

AdminResult audit_endpoint(r::Store& s, const AdminRequest& req) {
  if (req.method != "GET") throw MethodNotAllowed{};
  auto m = route_request("GET", req.target);
  int64_t limit = 50, since = 0;
  if (std::string v = first(m.query, "limit"); !v.empty()) {
    auto n = r::parse_int(v);
    if (!n || *n < 1) throw r::RuleError("limit must be a positive integer");
    limit = std::min<int64_t>(*n, 10000);
  }
  if (std::string v = first(m.query, "since_ms"); !v.empty()) {
    auto n = r::parse_int(v);
    if (!n || *n < 0) throw r::RuleError("since_ms must be an integer >= 0");
    since = *n;
  }
  json j = json::array();
  for (const auto& a : s.audit(static_cast<size_t>(limit), since)) {
    j.push_back({{"id", a.id},
                 {"time_ms", a.time_ms},
                 {"actor", a.actor},
                 {"action", a.action},
                 {"object", a.object},
                 {"before", a.before},
                 {"after", a.after}});
  }
  AdminResult out;
  out.reply = json_reply(200, j);
  return out;
}

// The proposal of `spamformer rules what-if`, as JSON.
AdminResult what_if_endpoint(r::Store& s, const AdminRequest& req) {
  if (req.method != "POST") throw MethodNotAllowed{};
  json j = parse_body(req.body);
  only_fields(j, {"domain", "user", "spam", "suspect", "remove_rules", "add_rules", "since_days"});
  uint64_t generation = 0;
  r::Config current = s.load_config(&generation);
  r::Config proposed = current;
  bool thresholds_only = true, any = false;
  auto [scope, key] = scope_of(j);
  if (j.contains("spam") || j.contains("suspect")) {
    any = true;
    r::Thresholds& slot = r::thresholds_for(proposed, scope, key);
    if (j.contains("spam")) slot.spam = probability(j["spam"], "spam");
    if (j.contains("suspect")) slot.suspect = probability(j["suspect"], "suspect");
  } else if (scope != r::Scope::global) {
    throw r::RuleError("domain and user go with spam or suspect");
  }
  if (j.contains("remove_rules")) {
    if (!j["remove_rules"].is_array()) throw r::RuleError("remove_rules must be an array of ids");
    for (const auto& v : j["remove_rules"]) {
      if (!v.is_number_integer()) throw r::RuleError("remove_rules must be an array of ids");
      any = true;
      thresholds_only = false;
      int64_t id = v.get<int64_t>();
      auto it = std::find_if(proposed.rules.begin(), proposed.rules.end(),
                             [&](const auto& rule) { return rule.id == id; });
      if (it == proposed.rules.end()) throw r::NotFound("no rule with id " + std::to_string(id));
      proposed.rules.erase(it);
    }
  }
  if (j.contains("add_rules")) {
    if (!j["add_rules"].is_array()) throw r::RuleError("add_rules must be an array of rules");
    int64_t next_id = 1;
    for (const auto& rule : current.rules) next_id = std::max(next_id, rule.id + 1);
    for (const auto& v : j["add_rules"]) {
      any = true;
      thresholds_only = false;
      r::Rule rule = r::rule_from_json(v);
      rule.id = next_id++;
      proposed.rules.push_back(rule);
    }
  }
  if (!any) throw r::RuleError("what-if needs a change: spam, suspect, remove_rules or add_rules");
  int64_t since = 0;
  if (j.contains("since_days")) {
    if (!j["since_days"].is_number_integer() || j["since_days"].get<int64_t>() < 0)
      throw r::RuleError("since_days must be an integer >= 0");
    since = r::now_ms() - j["since_days"].get<int64_t>() * 86400000;
  }
  r::WhatIf w(r::RuleSet::build(current, generation), r::RuleSet::build(proposed), thresholds_only);
  s.for_each_verdict(since, [&](const r::Verdict& v) { w.add(v); });
  AdminResult out;
  out.reply = json_reply(200, r::to_json(w.report()));
  return out;
}

AdminResult export_endpoint(r::Store& s, const AdminRequest& req) {
  if (req.method != "GET") throw MethodNotAllowed{};
  AdminResult out;
  out.reply.status = 200;
  out.reply.content_type = "application/toml";
  out.reply.body = r::export_toml(s.load_config());
  return out;
}

}  // namespace

AdminResult handle_rules_admin(const std::string& rules_db, const AdminRequest& req) {
  AdminResult out;
  std::string_view target = req.target;
  auto [res, rest] = split_path(target.substr(0, target.find('?')));
  if (!is_rules_admin_path(target.substr(0, target.find('?')))) {
    out.reply = error_reply(404, "no such endpoint");
    return out;
  }
  if (rules_db.empty()) {
    out.reply = error_reply(503, "no rules database configured (server.rules_db)");
    return out;
  }
  try {
    auto store = open_store(rules_db);
    if (res == "rules") return rules_endpoint(*store, req, rest);
    if (res == "thresholds") return thresholds_endpoint(*store, req);
    if (res == "lists") return lists_endpoint(*store, req);
    if (res == "audit") return audit_endpoint(*store, req);
    if (res == "what-if") return what_if_endpoint(*store, req);
    return export_endpoint(*store, req);
  } catch (const MethodNotAllowed&) {
    out.reply = error_reply(405, "method not allowed");
  } catch (const r::RuleError& e) {
    out.reply = error_reply(400, e.what());
  } catch (const json::exception& e) {
    out.reply = error_reply(400, std::string("bad JSON: ") + e.what());
  } catch (const r::NotFound& e) {
    out.reply = error_reply(404, e.what());
  } catch (const r::StoreError& e) {
    out.reply = error_reply(503, std::string("rules database: ") + e.what());
  } catch (const std::exception& e) {
    out.reply = error_reply(500, e.what());
  }
  out.changed = false;
  return out;
}

}  // namespace sf::service
