// http_admin.h: the daemon's HTTP admin endpoints for the business rules
// (rules/): the same operations as `spamformer rules`, on the database of
// server.rules_db, as JSON (export: TOML).
//
// Endpoints (all admin: bearer token required, see http_api.h):
//   GET    /v1/admin/rules            every rule (id order)
//   GET    /v1/admin/rules/{id}       one rule
//   POST   /v1/admin/rules            add a rule (rule JSON, docs/rules.md) -> 201
//   DELETE /v1/admin/rules/{id}       remove a rule
//   GET    /v1/admin/thresholds       the thresholds set per scope
//   POST   /v1/admin/thresholds       {"kind": "spam"|"suspect", "value": P|null,
//                                      "domain"|"user"}; null: inherit again
//   GET    /v1/admin/lists[?list=L]   list entries
//   POST   /v1/admin/lists            {"list", "entries": [...], "domain"|"user",
//   DELETE /v1/admin/lists             "comment"}: add or remove, all or none
//   GET    /v1/admin/audit[?limit=N]  recent changes, newest first
//   POST   /v1/admin/what-if          {"domain"|"user", "spam", "suspect",
//                                      "remove_rules": [id], "add_rules": [rule],
//                                      "since_days"} -> the what-if report
//   GET    /v1/admin/export           the whole configuration as TOML
// Every change is one store transaction with its audit row (actor given by
// the caller); the running daemon picks it up through the store's generation
// (serve.cpp polls it every second and swaps the rule set atomically).
// Promises: handle_rules_admin never throws; it blocks (SQLite), so callers
// run it on a blocking executor.
// Failure: a bad body or value (RuleError) -> 400, an unknown rule or entry
// (NotFound) -> 404, a wrong method -> 405, the database unusable
// (StoreError) or not configured -> 503; each with a JSON {"error"}.
#pragma once

#include <string>
#include <string_view>

#include "service/http_api.h"

namespace sf::service {

// True for the paths handle_rules_admin serves (whatever the method). Defined
// in http_api.cpp, so the request parser (and its fuzz target) links without
// the rules store.
bool is_rules_admin_path(std::string_view path);

struct AdminRequest {
  std::string method;  // "GET", "POST", "DELETE"
  std::string target;  // path and query
  std::string body;
  std::string actor;  // for the audit log
};

struct AdminResult {
  HttpReply reply;
  bool changed = false;  // the configuration was changed
};

// rules_db: server.rules_db ("" -> 503).
AdminResult handle_rules_admin(const std::string& rules_db, const AdminRequest& req);

}  // namespace sf::service
