// The HTTP API: the pure request handling (service/http_api.h) and the
// Beast adapter (service/http_server.h) over real loopback connections with a
// Beast client: every endpoint, JSON fields, keep-alive, limits, bearer-token
// authentication, feedback into the store, fail-closed 503.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon_fixture.h"
#include "rules/sha256.h"
#include "rules/store.h"
#include "service/http_api.h"
#include "service/http_server.h"
#include "service/serve_feedback.h"

using namespace sf::service;
namespace http = beast::http;
namespace fs = std::filesystem;

namespace {

struct Reply {
  unsigned status = 0;
  std::string body;
  http::fields headers;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

Reply call(tcp::socket& s, http::verb verb, const std::string& target, const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {}, bool keep_alive = true) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.keep_alive(keep_alive);
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(s, buf, res, ec);
  Reply r;
  if (ec) return r;
  r.status = res.result_int();
  r.body = res.body();
  r.headers = res.base();
  return r;
}

Reply call(uint16_t port, http::verb verb, const std::string& target, const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {}) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return call(s, verb, target, body, std::move(headers), false);
}

std::string raw_roundtrip(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(bytes));
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  for (size_t n; (n = s.read_some(asio::buffer(buf), ec)), !ec;) out.append(buf, n);
  return out;
}

struct HttpFixture : ::testing::Test {
  void start(Config c = {}, bool ready = true) {
    c.scheduler.max_wait_us = 0;
    d = std::make_unique<sf::test::TestDaemon>(c, ready);
    adapter = std::make_shared<HttpAdapter>(d->ctx);
    port = sf::test::TestDaemon::port_of(d->add_tcp(adapter));
    d->start();
  }
  std::unique_ptr<sf::test::TestDaemon> d;
  std::shared_ptr<HttpAdapter> adapter;
  uint16_t port = 0;
};

const std::string kSpam = "Subject: win\r\n\r\nP=953\r\n";

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("sf_http_" + std::to_string(getpid()) + "_" + name))
      .string();
}

std::string token_file(const std::string& token, mode_t mode) {
  std::string p = temp_path("token");
  std::ofstream(p) << token << "\n";
  ::chmod(p.c_str(), mode);
  return p;
}

}  // namespace

// ---- pure handling

TEST(HttpApi, RoutesAndQuery) {
  RouteMatch m =
      route_request("POST", "/v1/scan?rcpt=a%40b.example&rcpt=c%40d.example,e%40f&from=x%2By%40z");
  EXPECT_EQ(m.route, HttpRoute::scan);
  EXPECT_FALSE(m.admin);
  Envelope e = envelope_from(m, {{"x-client-ip", "192.0.2.1"}, {"x-envelope-from", "ignored@x"}});
  EXPECT_EQ(e.recipients, (std::vector<std::string>{"a@b.example", "c@d.example", "e@f"}));
  EXPECT_EQ(e.sender, "x+y@z");  // the query wins over the header
  EXPECT_EQ(e.client_ip, "192.0.2.1");
  EXPECT_EQ(route_request("GET", "/v1/scan").route, HttpRoute::bad_method);
  EXPECT_EQ(route_request("GET", "/nope").route, HttpRoute::not_found);
  EXPECT_EQ(route_request("HEAD", "/healthz").route, HttpRoute::healthz);
  EXPECT_TRUE(route_request("POST", "/v1/admin/reload").admin);
}

TEST(HttpApi, BearerTokenRules) {
  RouteMatch scan = route_request("POST", "/v1/scan");
  RouteMatch admin = route_request("POST", "/v1/admin/reload");
  const std::string tok = "0123456789abcdef0123";
  EXPECT_FALSE(check_auth(scan, true, "", ""));              // loopback, no token needed
  EXPECT_EQ(check_auth(scan, false, "", "")->status, 403u);  // remote, no token configured
  EXPECT_EQ(check_auth(scan, false, "", tok)->status, 401u);
  EXPECT_EQ(check_auth(scan, false, "Bearer wrong", tok)->status, 401u);
  EXPECT_FALSE(check_auth(scan, false, "Bearer " + tok, tok));
  EXPECT_EQ(check_auth(admin, true, "", "")->status, 403u);   // admin off without a token
  EXPECT_EQ(check_auth(admin, true, "", tok)->status, 401u);  // loopback is not enough
  EXPECT_FALSE(check_auth(admin, true, "Bearer " + tok, tok));
  EXPECT_EQ(check_auth(scan, false, "", tok)->headers.at(0).first, "WWW-Authenticate");
}

TEST(HttpApi, TokenFileMustBePrivate) {
  EXPECT_THROW(read_token_file(token_file("0123456789abcdef0123", 0644)), ConfigError);
  EXPECT_THROW(read_token_file(token_file("short", 0600)), ConfigError);
  EXPECT_EQ(read_token_file(token_file("0123456789abcdef0123", 0600)), "0123456789abcdef0123");
  fs::remove(temp_path("token"));
}

TEST(HttpApi, FeedbackRequests) {
  RouteMatch q = route_request("POST", "/v1/feedback?label=spam&user=bob");
  auto ok = parse_feedback(q, "message/rfc822", "Subject: x\r\n\r\nb");
  ASSERT_TRUE(std::holds_alternative<FeedbackRequest>(ok));
  EXPECT_EQ(std::get<FeedbackRequest>(ok).user, "bob");
  EXPECT_TRUE(std::get<FeedbackRequest>(ok).has_message);
  RouteMatch plain = route_request("POST", "/v1/feedback");
  auto j = parse_feedback(plain, "application/json", R"({"label":"ham","message_id":"<a@b>"})");
  ASSERT_TRUE(std::holds_alternative<FeedbackRequest>(j));
  EXPECT_EQ(std::get<FeedbackRequest>(j).message_id, "<a@b>");
  EXPECT_EQ(std::get<HttpReply>(
                parse_feedback(plain, "application/json", R"({"label":"eggs","message_id":"x"})"))
                .status,
            400u);
  EXPECT_EQ(
      std::get<HttpReply>(parse_feedback(plain, "application/json", R"({"lable":"ham"})")).status,
      400u);
  EXPECT_EQ(std::get<HttpReply>(parse_feedback(plain, "application/json", "{nope")).status, 400u);
  EXPECT_EQ(std::get<HttpReply>(parse_feedback(q, "text/plain", "")).status, 400u);
}

// ---- over loopback

TEST_F(HttpFixture, HealthAndReadiness) {
  start({}, /*ready=*/false);
  EXPECT_EQ(call(port, http::verb::get, "/healthz").status, 200u);
  Reply r = call(port, http::verb::get, "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.json()["status"], "loading");
  d->engine.set_model(sf::test::test_model(d->backend));
  EXPECT_EQ(call(port, http::verb::get, "/readyz").status, 200u);
}

TEST_F(HttpFixture, ScanAnswersTheVerdictAsJson) {
  start();
  Reply r = call(port, http::verb::post, "/v1/scan?rcpt=bob%40example.org&from=a%40b.example",
                 kSpam, {{"Content-Type", "message/rfc822"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["verdict"], "spam");
  EXPECT_DOUBLE_EQ(j["probability"].get<double>(), 0.953);
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), 9.5);
  EXPECT_DOUBLE_EQ(j["required"].get<double>(), 9.0);
  EXPECT_EQ(j["actions"], nlohmann::json::array({"move Junk"}));
  EXPECT_EQ(j["rule"], "default-spam");
  EXPECT_EQ(j["model"], "test-model");
  EXPECT_EQ(j["tokens"], 3);
  EXPECT_EQ(j["tempfail"], false);
  EXPECT_EQ(j["headers"][0], (nlohmann::json{{"name", "X-Spam-Flag"}, {"value", "YES"}}));
  for (const char* k : {"prepare", "queue", "model", "total"})
    EXPECT_GE(j["timings_ms"][k].get<double>(), 0.0) << k;
  EXPECT_EQ(d->metrics.requests("http", "spam"), 1u);
}

TEST_F(HttpFixture, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(call(s, http::verb::post, "/v1/scan", "\nP=100").json()["verdict"], "ham");
  EXPECT_EQ(call(s, http::verb::post, "/v1/scan", "\nP=600").json()["verdict"], "suspect");
  EXPECT_EQ(call(s, http::verb::get, "/healthz").status, 200u);
}

TEST_F(HttpFixture, LimitsAndMalformedRequests) {
  Config c;
  c.http.max_body_bytes = 2048;
  c.http.max_header_bytes = 1024;
  start(c);
  EXPECT_EQ(call(port, http::verb::post, "/v1/scan", std::string(5000, 'x')).status, 413u);
  EXPECT_EQ(call(port, http::verb::get, "/healthz", "", {{"X-Pad", std::string(3000, 'p')}}).status,
            431u);
  std::string bad = raw_roundtrip(port, "GARBAGE\r\n\r\n");
  EXPECT_EQ(bad.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(call(port, http::verb::post, "/v1/scan", "").status, 400u);
  EXPECT_EQ(call(port, http::verb::get, "/v1/scan").status, 405u);
  EXPECT_EQ(call(port, http::verb::get, "/v2/none").status, 404u);
  EXPECT_NE(d->metrics.render().find("limit=\"http.max_body_bytes\"} 1"), std::string::npos);
}

TEST_F(HttpFixture, MetricsInPrometheusFormat) {
  start();
  call(port, http::verb::post, "/v1/scan", kSpam);
  Reply m = call(port, http::verb::get, "/metrics");
  ASSERT_EQ(m.status, 200u);
  EXPECT_EQ(m.headers[http::field::content_type], "text/plain; version=0.0.4");
  for (const char* line :
       {"spamformer_requests_total{interface=\"http\",outcome=\"spam\"} 1",
        "spamformer_batch_size_bucket{le=\"1\"} 1", "spamformer_batch_size_count 1",
        "spamformer_scan_seconds_count{interface=\"http\"} 1", "spamformer_queue_depth 0",
        "spamformer_ready 1",
        "spamformer_backend_info{backend=\"fault-test\",device=\"test\",model=\"test-model\"} 1",
        "# TYPE spamformer_scan_seconds histogram", "spamformer_connections{interface=\"http\"} 1"})
    EXPECT_NE(m.body.find(line), std::string::npos) << line << "\n" << m.body;
}

TEST_F(HttpFixture, AdminReloadNeedsTheToken) {
  Config c;
  c.http.token_file = token_file("0123456789abcdef0123", 0600);
  start(c);
  int reloads = 0;
  d->ctx.request_reload = [&] { ++reloads; };
  EXPECT_EQ(call(port, http::verb::post, "/v1/admin/reload").status, 401u);
  EXPECT_EQ(call(port, http::verb::post, "/v1/admin/reload", "", {{"Authorization", "Bearer nope"}})
                .status,
            401u);
  EXPECT_EQ(call(port, http::verb::post, "/v1/admin/reload", "",
                 {{"Authorization", "Bearer 0123456789abcdef0123"}})
                .status,
            202u);
  EXPECT_EQ(reloads, 1);
  // Loopback clients need no token for the scan endpoints.
  EXPECT_EQ(call(port, http::verb::post, "/v1/scan", kSpam).status, 200u);
  fs::remove(c.http.token_file);
}

TEST_F(HttpFixture, AdminIsOffWithoutATokenFile) {
  start();
  d->ctx.request_reload = [] {};
  EXPECT_EQ(call(port, http::verb::post, "/v1/admin/reload").status, 403u);
}

TEST_F(HttpFixture, FeedbackIsStored) {
  fs::path db = fs::path(temp_path("fb")) / "fb.sqlite";
  fs::remove_all(db.parent_path());
  start();
  EXPECT_EQ(call(port, http::verb::post, "/v1/feedback?label=spam", "Subject: x\r\n\r\nb").status,
            503u);  // no store configured
  StoreFeedback sink(db.string());
  d->ctx.feedback = &sink;
  Reply r = call(port, http::verb::post, "/v1/feedback",
                 R"({"label":"ham","message_id":"<m1@x>","user":"ann"})",
                 {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(call(port, http::verb::post, "/v1/feedback?label=spam",
                 "Message-ID: <m2@x>\r\nSubject: x\r\n\r\nb")
                .status,
            200u);
  EXPECT_EQ(call(port, http::verb::post, "/v1/feedback?label=maybe", "x").status, 400u);
  auto rows = sink.store().feedback();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].message_hash, sf::rules::message_id_hash("<m1@x>"));
  EXPECT_EQ(rows[0].label, sf::rules::Label::ham);
  EXPECT_EQ(rows[0].user, "ann");
  EXPECT_EQ(rows[0].source, sf::rules::FeedbackSource::http);
  EXPECT_EQ(rows[1].message_hash, sf::rules::message_id_hash("<m2@x>"));
  d->ctx.feedback = nullptr;
  d->stop();
  fs::remove_all(db.parent_path());
}

TEST_F(HttpFixture, RspamdCheckv2) {
  start();
  Reply r = call(port, http::verb::post, "/checkv2", kSpam, {{"Rcpt", "bob@example.org"}});
  ASSERT_EQ(r.status, 200u);
  auto j = r.json();
  EXPECT_EQ(j["action"], "add header");
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), 9.5);
  EXPECT_DOUBLE_EQ(j["required_score"].get<double>(), 9.0);
  EXPECT_EQ(j["is_skipped"], false);
  EXPECT_DOUBLE_EQ(j["symbols"]["SPAMFORMER_P95"]["score"].get<double>(), 9.5);
  EXPECT_EQ(j["milter"]["add_headers"]["X-Spam-Flag"]["value"], "YES");
  EXPECT_EQ(j["milter"]["remove_headers"]["X-Spam-Status"], 0);
  EXPECT_EQ(call(port, http::verb::post, "/checkv2", "\nP=10").json()["action"], "no action");
}

TEST_F(HttpFixture, FailClosedAnswers503WithTheReason) {
  Config c;
  c.scheduler.failure_policy = "closed";
  start(c);
  d->backend->fail = true;
  Reply r = call(port, http::verb::post, "/v1/scan", kSpam);
  EXPECT_EQ(r.status, 503u);
  auto j = r.json();
  EXPECT_EQ(j["verdict"], "unchecked");
  EXPECT_EQ(j["reason"], "backend_error");
  EXPECT_EQ(j["tempfail"], true);
  EXPECT_TRUE(j["probability"].is_null());
}
