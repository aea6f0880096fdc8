// http_api.h: the HTTP API's request handling that needs no socket: routes,
// authentication, the envelope from the query and headers, and the JSON the
// endpoints answer. The Beast session is http_server.h.
//
// Endpoints (docs/daemon.md):
//   POST /v1/scan          raw message body; envelope from the query (from,
//                          rcpt (repeatable), ip, helo, user, tenant) or
//                          headers (X-Envelope-From, X-Envelope-To, X-Client-IP,
//                          X-Helo, X-User, X-Tenant) -> {probability, verdict,
//                          actions, rule, model, score, required, headers,
//                          flags, tokens, timings_ms}
//   POST /v1/feedback      ?label=spam|ham[&user=U] with the raw message, or a
//                          JSON body {"label", "message_id", "user"}
//   POST /checkv2          Rspamd's scan endpoint (score, required_score,
//                          action, symbols, milter headers)
//   GET  /healthz          200 while the process serves
//   GET  /readyz           200 once the model is loaded, else 503
//   GET  /metrics          Prometheus text format
//   POST /v1/admin/reload  (admin) re-read the config, as SIGHUP does
//   /v1/admin/rules, thresholds, lists, audit, what-if, export: (admin) the
//                          rules database, see http_admin.h
// Authentication: clients not on loopback, and every admin endpoint, need
// "Authorization: Bearer <token>" with the token of http.token_file.
// Promises: pure functions; never throw on any input.
// Failure: the client's errors become 4xx replies with a JSON {"error"}.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "service/scan.h"

namespace sf::service {

enum class HttpRoute {
  scan,
  feedback,
  checkv2,
  healthz,
  readyz,
  metrics,
  reload,
  rules_admin,  // /v1/admin/{rules,thresholds,lists,audit,what-if,export}: http_admin.h
  not_found,
  bad_method
};

struct RouteMatch {
  HttpRoute route = HttpRoute::not_found;
  bool admin = false;
  std::multimap<std::string, std::string> query;  // percent-decoded
};

// method: "GET", "POST", ...; target: "/v1/scan?rcpt=a%40b".
RouteMatch route_request(std::string_view method, std::string_view target);

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

HttpReply json_reply(unsigned status, const nlohmann::json& body);
HttpReply error_reply(unsigned status, std::string_view message);

// nullopt: allowed. `token` empty: no token configured.
std::optional<HttpReply> check_auth(const RouteMatch& m, bool peer_loopback,
                                    std::string_view authorization, const std::string& token);

// The request headers the API reads, by lower-case name.
using HeaderLookup = std::map<std::string, std::string>;
Envelope envelope_from(const RouteMatch& m, const HeaderLookup& headers);

nlohmann::json scan_json(const ScanResult& r);
// 200 with scan_json; 503 (and the same JSON) when the result is tempfail.
HttpReply scan_reply(const ScanResult& r);
// Rspamd /checkv2 reply for a result.
HttpReply checkv2_reply(const ScanResult& r);

// Feedback from the query or a JSON body: label ("spam"/"ham"), user,
// message_id. Returns an error reply when the request is unusable.
struct FeedbackRequest {
  std::string label, user, message_id;
  bool has_message = false;  // the body is the raw message
};
std::variant<FeedbackRequest, HttpReply> parse_feedback(const RouteMatch& m,
                                                        std::string_view content_type,
                                                        std::string_view body);

// Reads a bearer token file: refuses a file readable by others or empty.
// Throws ConfigError naming http.token_file.
std::string read_token_file(const std::string& path);
// Constant-time comparison.
bool token_equal(std::string_view a, std::string_view b);

}  // namespace sf::service
