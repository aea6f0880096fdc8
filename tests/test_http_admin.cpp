// test_http_admin.cpp: the daemon's HTTP admin endpoints for the rules
// (service/http_admin.h) over real loopback HTTP: the bearer token is
// required, each endpoint's happy path and its 400/404/405, audit rows with
// the HTTP actor, what-if giving the CLI's report, and a change reaching the
// next /v1/scan decision through the daemon's store -> engine reload path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon_fixture.h"
#include "rules/store.h"
#include "service/cmd_rules.h"
#include "service/http_admin.h"
#include "service/http_api.h"
#include "service/http_server.h"
#include "service/serve.h"

using namespace sf::service;
namespace http = beast::http;
namespace fs = std::filesystem;

namespace {

const std::string kToken = "0123456789abcdef0123";

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

Reply call(uint16_t port, http::verb verb, const std::string& target, const std::string& body = "",
           const std::string& token = kToken) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.keep_alive(false);
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
  r.content_type = std::string(res[http::field::content_type]);
  return r;
}

class HttpAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("sf_http_admin_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::create_directories(dir_);
    db_ = (dir_ / "rules.db").string();
    { sf::rules::Store create(db_); }
  }
  void TearDown() override {
    if (d_) d_->stop();
    d_.reset();
    bundle_ = {};
    fs::remove_all(dir_);
  }

  // A daemon core deciding by the rules of db_, as `spamformer serve` builds it.
  void start(bool with_token = true, bool with_db = true) {
    Config c;
    c.scheduler.max_wait_us = 0;
    if (with_db) c.server.rules_db = db_;
    if (with_token) {
      c.http.token_file = (dir_ / "token").string();
      std::ofstream(c.http.token_file) << kToken << "\n";
      ::chmod(c.http.token_file.c_str(), 0600);
    }
    d_ = std::make_unique<sf::test::TestDaemon>(c);
    if (with_db) {
      bundle_ = default_policies(c);
      d_->engine.reconfigure(engine_options(c), bundle_.policy);
    }
    adapter_ = std::make_shared<HttpAdapter>(d_->ctx);
    port_ = sf::test::TestDaemon::port_of(d_->add_tcp(adapter_));
    d_->start();
  }

  Reply get(const std::string& t) { return call(port_, http::verb::get, t); }
  Reply post(const std::string& t, const std::string& b) {
    return call(port_, http::verb::post, t, b);
  }
  Reply del(const std::string& t, const std::string& b = "") {
    return call(port_, http::verb::delete_, t, b);
  }
  nlohmann::json scan(const std::string& query, int p) {
    Reply r = call(port_, http::verb::post, "/v1/scan?" + query,
                   "Subject: hi\r\n\r\nP=" + std::to_string(p) + "\r\n", "");
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.json();
  }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<sf::test::TestDaemon> d_;
  PolicyBundle bundle_;
  std::shared_ptr<HttpAdapter> adapter_;
  uint16_t port_ = 0;
};

const std::string kRule =
    R"({"name": "partners", "domain": "example.org", "match": {"sender": ["*.partner.example"]},
        "actions": ["move Partners"]})";

TEST(HttpAdminPaths, RoutedAsAdmin) {
  for (const char* p : {"/v1/admin/rules", "/v1/admin/rules/7", "/v1/admin/thresholds",
                        "/v1/admin/lists?list=block", "/v1/admin/audit?limit=3",
                        "/v1/admin/what-if", "/v1/admin/export"}) {
    RouteMatch m = route_request("GET", p);
    EXPECT_EQ(m.route, HttpRoute::rules_admin) << p;
    EXPECT_TRUE(m.admin) << p;
  }
  EXPECT_EQ(route_request("GET", "/v1/admin/lists/x").route, HttpRoute::not_found);
  EXPECT_EQ(route_request("GET", "/v1/admin/nope").route, HttpRoute::not_found);
  EXPECT_EQ(route_request("GET", "/v1/rules").route, HttpRoute::not_found);
}

TEST_F(HttpAdmin, RefusedWithoutOrWithAWrongToken) {
  start();
  EXPECT_EQ(call(port_, http::verb::get, "/v1/admin/rules", "", "").status, 401u);
  EXPECT_EQ(call(port_, http::verb::get, "/v1/admin/rules", "", "wrong-token-0123456789").status,
            401u);
  EXPECT_EQ(call(port_, http::verb::post, "/v1/admin/rules", kRule, "").status, 401u);
  EXPECT_EQ(get("/v1/admin/rules").status, 200u);
  // Nothing was added by the refused request.
  EXPECT_TRUE(get("/v1/admin/rules").json().empty());
}

TEST_F(HttpAdmin, OffWithoutATokenFile) {
  start(false);
  EXPECT_EQ(call(port_, http::verb::get, "/v1/admin/rules", "", "").status, 403u);
}

TEST_F(HttpAdmin, NoRulesDatabaseIs503) {
  start(true, false);
  Reply r = get("/v1/admin/rules");
  EXPECT_EQ(r.status, 503u);
  EXPECT_NE(r.body.find("server.rules_db"), std::string::npos) << r.body;
}

TEST_F(HttpAdmin, RulesAddListShowRemove) {
  start();
  Reply added = post("/v1/admin/rules", kRule);
  ASSERT_EQ(added.status, 201u) << added.body;
  int64_t id = added.json()["id"].get<int64_t>();
  EXPECT_GT(id, 0);
  EXPECT_EQ(added.json()["name"], "partners");

  Reply list = get("/v1/admin/rules");
  ASSERT_EQ(list.status, 200u);
  ASSERT_EQ(list.json().size(), 1u);
  EXPECT_EQ(list.json()[0]["id"], id);

  Reply one = get("/v1/admin/rules/" + std::to_string(id));
  ASSERT_EQ(one.status, 200u);
  EXPECT_EQ(one.json()["actions"][0], "move Partners");

  EXPECT_EQ(get("/v1/admin/rules/999").status, 404u);
  EXPECT_EQ(get("/v1/admin/rules/abc").status, 400u);
  EXPECT_EQ(post("/v1/admin/rules", "{not json").status, 400u);
  Reply bad = post("/v1/admin/rules", R"({"match": {}, "actions": ["move"]})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.json()["error"].get<std::string>().find("move"), std::string::npos) << bad.body;
  EXPECT_EQ(post("/v1/admin/rules", R"({"bogus": 1, "actions": ["accept"]})").status, 400u);
  EXPECT_EQ(call(port_, http::verb::put, "/v1/admin/rules", kRule).status, 405u);

  EXPECT_EQ(del("/v1/admin/rules/" + std::to_string(id)).status, 200u);
  EXPECT_EQ(del("/v1/admin/rules/" + std::to_string(id)).status, 404u);
  EXPECT_TRUE(get("/v1/admin/rules").json().empty());
}

TEST_F(HttpAdmin, Thresholds) {
  start();
  Reply r =
      post("/v1/admin/thresholds", R"({"kind": "spam", "value": 0.8, "domain": "Example.ORG"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto all = get("/v1/admin/thresholds").json();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].dump().find("example.org") != std::string::npos, true) << all.dump();
  EXPECT_NE(all[0].dump().find("0.8"), std::string::npos) << all.dump();
  EXPECT_EQ(post("/v1/admin/thresholds", R"({"kind": "ham", "value": 0.8})").status, 400u);
  EXPECT_EQ(post("/v1/admin/thresholds", R"({"kind": "spam", "value": 1.5})").status, 400u);
  EXPECT_EQ(post("/v1/admin/thresholds", R"({"kind": "spam"})").status, 400u);
  EXPECT_EQ(post("/v1/admin/thresholds",
                 R"({"kind": "spam", "value": 0.7, "domain": "a.example", "user": "b@a.example"})")
                .status,
            400u);
  // null: inherit again.
  EXPECT_EQ(
      post("/v1/admin/thresholds", R"({"kind": "spam", "value": null, "domain": "example.org"})")
          .status,
      200u);
  EXPECT_TRUE(get("/v1/admin/thresholds").json().empty());
}

TEST_F(HttpAdmin, Lists) {
  start();
  const std::string body = R"({"list": "block", "entries": ["spammer.example", "192.0.2.0/24"],
                               "comment": "seen in a campaign"})";
  Reply r = post("/v1/admin/lists", body);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.json()["added"].size(), 2u);
  auto entries = get("/v1/admin/lists?list=block").json();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(get("/v1/admin/lists?list=allow").json().empty());
  EXPECT_EQ(post("/v1/admin/lists", body).status, 400u);  // already present: nothing added
  EXPECT_EQ(post("/v1/admin/lists", R"({"list": "block", "entries": []})").status, 400u);
  EXPECT_EQ(post("/v1/admin/lists", R"({"entries": ["x.example"]})").status, 400u);
  EXPECT_EQ(del("/v1/admin/lists", R"({"list": "block", "entries": ["spammer.example"]})").status,
            200u);
  EXPECT_EQ(del("/v1/admin/lists", R"({"list": "block", "entries": ["spammer.example"]})").status,
            404u);
  EXPECT_EQ(get("/v1/admin/lists?list=block").json().size(), 1u);
}

TEST_F(HttpAdmin, AuditRowsNameTheHttpActor) {
  start();
  ASSERT_EQ(post("/v1/admin/rules", kRule).status, 201u);
  ASSERT_EQ(post("/v1/admin/thresholds", R"({"kind": "suspect", "value": 0.4})").status, 200u);
  ASSERT_EQ(post("/v1/admin/lists", R"({"list": "allow", "entries": ["friend.example"]})").status,
            201u);
  Reply r = get("/v1/admin/audit?limit=10");
  ASSERT_EQ(r.status, 200u);
  auto rows = r.json();
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  for (const auto& row : rows) EXPECT_EQ(row["actor"], "http-admin");
  EXPECT_EQ(rows[2]["action"], "rule.add");  // newest first
  EXPECT_TRUE(rows[2]["before"].is_null());
  EXPECT_EQ(rows[2]["after"]["name"], "partners");
  EXPECT_EQ(get("/v1/admin/audit?limit=1").json().size(), 1u);
  EXPECT_EQ(get("/v1/admin/audit?limit=0").status, 400u);
  // The same rows through the store.
  sf::rules::Store s(db_);
  EXPECT_EQ(s.audit(10).size(), 3u);
  EXPECT_EQ(s.audit(10)[0].actor, "http-admin");
}

TEST_F(HttpAdmin, ExportIsToml) {
  start();
  ASSERT_EQ(post("/v1/admin/rules", kRule).status, 201u);
  Reply r = get("/v1/admin/export");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/toml");
  EXPECT_NE(r.body.find("[[rules]]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("move Partners"), std::string::npos) << r.body;
  EXPECT_EQ(post("/v1/admin/export", "{}").status, 405u);
}

TEST_F(HttpAdmin, WhatIfGivesTheCliReport) {
  {
    sf::rules::Store s(db_);
    auto rs = sf::rules::RuleSet::build(s.load_config());
    std::vector<sf::rules::Verdict> log;
    int i = 0;
    for (float p : {0.1f, 0.6f, 0.85f, 0.95f}) {
      for (const char* to : {"a@example.com", "a@other.example"}) {
        sf::rules::Context ctx;
        ctx.recipient = to;
        ctx.sender = "x@s.example";
        ctx.probability = p;
        log.push_back(sf::rules::make_verdict(ctx, sf::rules::evaluate(ctx, *rs),
                                              "<" + std::to_string(i++) + "@t>", "m",
                                              sf::rules::now_ms()));
      }
    }
    s.add_verdicts(log);
  }
  start();
  Reply r = post("/v1/admin/what-if", R"({"domain": "example.com", "spam": 0.8})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["total"], 8);
  EXPECT_EQ(j["changed"], 1);
  EXPECT_EQ(j["by_transition"]["flag $Suspect -> move Junk"], 1);
  std::ostringstream out, err;
  ASSERT_EQ(
      sf::cli::cmd_rules(
          {"--db", db_, "what-if", "--domain", "example.com", "--spam", "0.8", "--json"}, out, err),
      0)
      << err.str();
  EXPECT_EQ(j, nlohmann::json::parse(out.str()));
  EXPECT_EQ(post("/v1/admin/what-if", "{}").status, 400u);
  EXPECT_EQ(post("/v1/admin/what-if", R"({"remove_rules": [42]})").status, 404u);
  EXPECT_EQ(post("/v1/admin/what-if", R"({"spam": 2})").status, 400u);
  // What-if changes nothing.
  EXPECT_TRUE(get("/v1/admin/thresholds").json().empty());
}

TEST_F(HttpAdmin, ChangesReachTheNextScan) {
  start();
  const std::string q = "rcpt=bob%40example.org&from=eve%40spammer.example";
  auto before = scan(q, 300);
  EXPECT_EQ(before["verdict"], "ham");
  // A lower spam threshold for the domain, then the daemon's reload step
  // (serve.cpp runs it every second): the next scan is decided by it.
  ASSERT_EQ(
      post("/v1/admin/thresholds", R"({"kind": "suspect", "value": 0.1, "domain": "example.org"})")
          .status,
      200u);
  ASSERT_EQ(
      post("/v1/admin/thresholds", R"({"kind": "spam", "value": 0.2, "domain": "example.org"})")
          .status,
      200u);
  ASSERT_TRUE(bundle_.poll_rules());
  auto after = scan(q, 300);
  EXPECT_EQ(after["verdict"], "spam") << after.dump();
  EXPECT_DOUBLE_EQ(after["required"].get<double>(), sa_required(0.2));
  // Another recipient domain keeps the default.
  EXPECT_EQ(scan("rcpt=bob%40other.example&from=eve%40spammer.example", 300)["verdict"], "ham");

  // A block-list entry for the sender decides before the model.
  ASSERT_EQ(post("/v1/admin/lists", R"({"list": "block", "entries": ["spammer.example"]})").status,
            201u);
  ASSERT_TRUE(bundle_.poll_rules());
  auto blocked = scan("rcpt=bob%40other.example&from=eve%40spammer.example", 10);
  EXPECT_EQ(blocked["rule"], "block-list") << blocked.dump();
  EXPECT_EQ(blocked["verdict"], "spam");
  // And removing it undoes it.
  ASSERT_EQ(del("/v1/admin/lists", R"({"list": "block", "entries": ["spammer.example"]})").status,
            200u);
  ASSERT_TRUE(bundle_.poll_rules());
  EXPECT_EQ(scan("rcpt=bob%40other.example&from=eve%40spammer.example", 10)["verdict"], "ham");
  EXPECT_FALSE(bundle_.poll_rules());  // nothing changed since
}

}  // namespace
