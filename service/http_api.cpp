// http_api.cpp: see http_api.h.
#include "service/http_api.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <variant>

#include "service/config.h"
#include "service/http_admin.h"

namespace sf::service {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::multimap<std::string, std::string> parse_query(std::string_view q) {
  std::multimap<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string k = percent_decode(kv.substr(0, eq));
      std::string v = eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1));
      out.emplace(std::move(k), std::move(v));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string first(const std::multimap<std::string, std::string>& q, const std::string& k) {
  auto it = q.find(k);
  return it == q.end() ? "" : it->second;
}

std::string header(const HeaderLookup& h, const std::string& k) {
  auto it = h.find(k);
  return it == h.end() ? "" : it->second;
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

bool is_rules_admin_path(std::string_view path) {
  constexpr std::string_view kPrefix = "/v1/admin/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  std::string_view res = path.substr(0, slash);
  if (slash != std::string_view::npos) return res == "rules" && slash + 1 < path.size();
  for (std::string_view r : {"rules", "thresholds", "lists", "audit", "what-if", "export"})
    if (res == r) return true;
  return false;
}

RouteMatch route_request(std::string_view method, std::string_view target) {
  RouteMatch m;
  size_t qm = target.find('?');
  std::string_view path = target.substr(0, qm);
  if (qm != std::string_view::npos) m.query = parse_query(target.substr(qm + 1));
  struct Entry {
    std::string_view path, method;
    HttpRoute route;
    bool admin;
  };
  static constexpr Entry kRoutes[] = {
      {"/v1/scan", "POST", HttpRoute::scan, false},
      {"/v1/feedback", "POST", HttpRoute::feedback, false},
      {"/checkv2", "POST", HttpRoute::checkv2, false},
      {"/healthz", "GET", HttpRoute::healthz, false},
      {"/readyz", "GET", HttpRoute::readyz, false},
      {"/metrics", "GET", HttpRoute::metrics, false},
      {"/v1/admin/reload", "POST", HttpRoute::reload, true},
  };
  for (const auto& r : kRoutes) {
    if (r.path != path) continue;
    m.admin = r.admin;
    m.route = (r.method == method || (r.method == "GET" && method == "HEAD"))
                  ? r.route
                  : HttpRoute::bad_method;
    return m;
  }
  if (is_rules_admin_path(path)) {  // methods are checked by http_admin.cpp
    m.admin = true;
    m.route = HttpRoute::rules_admin;
    return m;
  }
  m.route = HttpRoute::not_found;
  return m;
}

HttpReply json_reply(unsigned status, const nlohmann::json& body) {
  HttpReply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

HttpReply error_reply(unsigned status, std::string_view message) {
  return json_reply(status, {{"error", std::string(message)}});
}

bool token_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::optional<HttpReply> check_auth(const RouteMatch& m, bool peer_loopback,
                                    std::string_view authorization, const std::string& token) {
  if (!m.admin && peer_loopback) return std::nullopt;
  if (token.empty())
    return error_reply(403, m.admin ? "admin endpoints are off (no http.token_file configured)"
                                    : "only loopback clients are served (no http.token_file "
                                      "configured)");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer &&
      token_equal(authorization.substr(kBearer.size()), token))
    return std::nullopt;
  HttpReply r = error_reply(401, "a valid bearer token is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"spamformer\"");
  return r;
}

Envelope envelope_from(const RouteMatch& m, const HeaderLookup& h) {
  Envelope e;
  auto pick = [&](const char* q, const char* hd) {
    std::string v = first(m.query, q);
    return v.empty() ? header(h, hd) : v;
  };
  e.sender = pick("from", "x-envelope-from");
  e.client_ip = pick("ip", "x-client-ip");
  e.helo = pick("helo", "x-helo");
  e.user = pick("user", "x-user");
  e.tenant = pick("tenant", "x-tenant");
  e.auth_user = pick("auth_user", "x-auth-user");
  e.authenticated = !e.auth_user.empty();
  auto [lo, hi] = m.query.equal_range("rcpt");
  for (auto it = lo; it != hi; ++it)
    for (auto& r : split_list(it->second)) e.recipients.push_back(r);
  if (e.recipients.empty()) e.recipients = split_list(header(h, "x-envelope-to"));
  return e;
}

nlohmann::json scan_json(const ScanResult& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["verdict"] = verdict_name(r.verdict);
  if (r.verdict == Verdict::unchecked) {
    j["probability"] = nullptr;
    j["score"] = nullptr;
    j["reason"] = unchecked_name(r.reason);
  } else {
    j["probability"] = round3(r.probability);
    j["score"] = sa_score(r.probability);
  }
  j["required"] = sa_required(r.spam_threshold);
  j["tempfail"] = r.tempfail;
  j["actions"] = r.actions;
  j["rule"] = r.rule;
  j["model"] = r.model;
  j["flags"] = r.flags;
  j["tokens"] = r.tokens;
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& h : verdict_headers(r))
    headers.push_back({{"name", h.name}, {"value", h.value}});
  j["headers"] = headers;
  j["timings_ms"] = {{"prepare", round3(r.timings.prepare_ms)},
                     {"queue", round3(r.timings.queue_ms)},
                     {"model", round3(r.timings.model_ms)},
                     {"total", round3(r.timings.total_ms)}};
  return j;
}

HttpReply scan_reply(const ScanResult& r) {
  return json_reply(r.tempfail ? 503 : 200, scan_json(r));
}

HttpReply checkv2_reply(const ScanResult& r) {
  nlohmann::json j;
  const bool unchecked = r.verdict == Verdict::unchecked;
  std::string action = "no action";
  if (r.tempfail) {
    action = "soft reject";
  } else if (r.verdict == Verdict::spam) {
    action = "add header";
    for (const auto& a : r.actions)
      if (a == "reject" || a.rfind("reject ", 0) == 0) action = "reject";
  }
  j["is_skipped"] = unchecked;
  j["score"] = unchecked ? 0.0 : sa_score(r.probability);
  j["required_score"] = sa_required(r.spam_threshold);
  j["action"] = action;
  const std::string sym = sa_symbol(r);
  j["symbols"] = {{sym, {{"name", sym}, {"score", unchecked ? 0.0 : sa_score(r.probability)}}}};
  nlohmann::json add = nlohmann::json::object(), remove = nlohmann::json::object();
  for (const auto& name : our_header_names()) remove[name] = 0;  // 0: every instance
  for (const auto& h : verdict_headers(r)) add[h.name] = {{"value", h.value}, {"order", 0}};
  j["milter"] = {{"add_headers", add}, {"remove_headers", remove}};
  j["message-id"] = r.id;
  return json_reply(200, j);
}

std::variant<FeedbackRequest, HttpReply> parse_feedback(const RouteMatch& m,
                                                        std::string_view content_type,
                                                        std::string_view body) {
  FeedbackRequest f;
  if (content_type.substr(0, 16) == "application/json") {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return error_reply(400, "body is not a JSON object");
    for (auto& [k, v] : j.items()) {
      if (k != "label" && k != "user" && k != "message_id")
        return error_reply(400, "unknown field '" + k + "'");
      if (!v.is_string()) return error_reply(400, "field '" + k + "' must be a string");
    }
    f.label = j.value("label", "");
    f.user = j.value("user", "");
    f.message_id = j.value("message_id", "");
    if (f.message_id.empty()) return error_reply(400, "message_id is required with a JSON body");
  } else {
    f.label = first(m.query, "label");
    f.user = first(m.query, "user");
    f.has_message = true;
    if (body.empty()) return error_reply(400, "the body must be the raw message");
  }
  if (f.label != "spam" && f.label != "ham") return error_reply(400, "label must be spam or ham");
  return f;
}

std::string read_token_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ConfigError("http.token_file: " + path + ": cannot read it");
  if (st.st_mode & S_IROTH)
    throw ConfigError("http.token_file: " + path +
                      " is readable by others; make it private (chmod o-r)");
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token))
    throw ConfigError("http.token_file: " + path + ": cannot read it");
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.size() < 16)
    throw ConfigError("http.token_file: " + path + ": the token must have at least 16 characters");
  return token;
}

}  // namespace sf::service
