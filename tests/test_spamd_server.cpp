// The spamd adapter (service/spamd_server.h) over real loopback sockets: exact
// replies, protocol errors answered and closed, every limit (size, head,
// timeout, connections), the Unix socket, TELL into the feedback store, and
// the real `spamc` client against it with fault injection (fail-open headers,
// fail-closed tempfail, exit codes).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon_fixture.h"
#include "rules/sha256.h"
#include "rules/store.h"
#include "service/serve.h"
#include "service/serve_feedback.h"
#include "service/spamd_server.h"

using namespace sf::service;
namespace fs = std::filesystem;

namespace {

std::string read_all(tcp::socket& s) {
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

std::string roundtrip(uint16_t port, const std::string& request, bool half_close = true) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(request));
  if (half_close) s.shutdown(tcp::socket::shutdown_send);
  return read_all(s);
}

std::string request(const std::string& cmd, const std::string& msg, const std::string& extra = "") {
  return cmd + " SPAMC/1.5\r\n" + extra + "Content-length: " + std::to_string(msg.size()) +
         "\r\n\r\n" + msg;
}

struct SpamdFixture : ::testing::Test {
  void start(Config c = {}) {
    c.scheduler.max_wait_us = 0;
    d = std::make_unique<sf::test::TestDaemon>(c);
    adapter = std::make_shared<SpamdAdapter>(d->ctx);
    port = sf::test::TestDaemon::port_of(d->add_tcp(adapter));
    d->start();
  }
  std::unique_ptr<sf::test::TestDaemon> d;
  std::shared_ptr<SpamdAdapter> adapter;
  uint16_t port = 0;
};

const std::string kSpam = "Subject: win\r\nX-Spam-Flag: YES\r\n\r\nP=953\r\n";
const std::string kHam = "Subject: lunch\r\n\r\nP=100\r\n";

struct Proc {
  int status = -1;
  std::string out;
};

// Runs a shell command with `input` on standard input.
Proc run(const std::string& cmd, const std::string& input) {
  static int n = 0;
  std::string in = (fs::temp_directory_path() /
                    ("sf_spamd_in_" + std::to_string(getpid()) + "_" + std::to_string(n++)))
                       .string();
  std::ofstream(in, std::ios::binary) << input;
  Proc r;
  FILE* p = popen((cmd + " < " + in + " 2>/dev/null").c_str(), "r");
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, k);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  fs::remove(in);
  return r;
}

bool have_spamc() { return std::system("command -v spamc >/dev/null 2>&1") == 0; }

}  // namespace

TEST_F(SpamdFixture, ProcessReplacesIncomingHeadersWithOurs) {
  start();
  std::string body = rewrite_message(kSpam, verdict_headers([] {
                                       ScanResult r;
                                       r.verdict = Verdict::spam;
                                       r.probability = 0.953;
                                       r.rule = "default-spam";
                                       r.model = "test-model";
                                       return r;
                                     }()));
  EXPECT_EQ(body.find("X-Spam-Flag: YES\r\nSubject"), std::string::npos);
  EXPECT_EQ(roundtrip(port, request("PROCESS", kSpam)),
            "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\nContent-length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST_F(SpamdFixture, CheckAndPing) {
  start();
  EXPECT_EQ(roundtrip(port, request("CHECK", kHam, "User: bob\r\n")),
            "SPAMD/1.5 0 EX_OK\r\nSpam: False ; 1.0 / 9.0\r\n\r\n");
  EXPECT_EQ(roundtrip(port, "PING SPAMC/1.5\r\n\r\n"), "SPAMD/1.5 0 PONG\r\n");
  // Old clients send PING without the empty line and do not half-close.
  EXPECT_EQ(roundtrip(port, "PING SPAMC/1.2\r\n", false), "SPAMD/1.5 0 PONG\r\n");
  EXPECT_EQ(roundtrip(port, "SKIP SPAMC/1.5\r\n\r\n"), "");
}

TEST_F(SpamdFixture, ProtocolErrorIsAnsweredAndClosed) {
  start();
  EXPECT_EQ(roundtrip(port, "FROB SPAMC/1.5\r\n\r\nmore"),
            "SPAMD/1.5 76 EX_PROTOCOL unknown command 'FROB'\r\n");
  EXPECT_EQ(roundtrip(port, request("CHECK", "x", "Compress: zlib\r\n")).substr(0, 22),
            "SPAMD/1.5 76 EX_PROTOC");
  // A body shorter than its Content-length.
  EXPECT_EQ(roundtrip(port, "CHECK SPAMC/1.5\r\nContent-length: 100\r\n\r\nshort"),
            "SPAMD/1.5 76 EX_PROTOCOL message shorter than Content-length (5 of 100 bytes)\r\n");
  EXPECT_EQ(d->metrics.render().find("spamformer_protocol_errors_total{interface=\"spamd\"} 3") !=
                std::string::npos,
            true)
      << d->metrics.render();
}

TEST_F(SpamdFixture, MessageOverTheSizeLimitIsRefusedAndTheReplyArrives) {
  Config c;
  c.spamd.max_message_bytes = 4096;
  start(c);
  std::string big = "Subject: big\r\n\r\n" + std::string(200000, 'x');
  EXPECT_EQ(roundtrip(port, request("PROCESS", big)),
            "SPAMD/1.5 65 EX_DATAERR message of 200016 bytes is over spamd.max_message_bytes "
            "(4096)\r\n");
  EXPECT_NE(d->metrics.render().find("limit=\"spamd.max_message_bytes\"} 1"), std::string::npos);
}

TEST_F(SpamdFixture, RequestHeadOverTheLimit) {
  Config c;
  c.spamd.max_header_bytes = 256;
  start(c);
  std::string reply = roundtrip(port, "CHECK SPAMC/1.5\r\nX-Pad: " + std::string(1000, 'a') +
                                          "\r\nContent-length: 1\r\n\r\nx");
  EXPECT_EQ(reply, "SPAMD/1.5 76 EX_PROTOCOL request head over spamd.max_header_bytes\r\n");
}

TEST_F(SpamdFixture, SlowClientTimesOut) {
  Config c;
  c.spamd.read_timeout_ms = 200;
  start(c);
  const auto t0 = Clock::now();
  // Sends half a head and stays silent without closing: the server closes
  // the connection (the client sees end of stream, no reply).
  EXPECT_EQ(roundtrip(port, "CHECK SPAMC/1.5\r\nContent-le", false), "");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
  // And one that stops in the middle of the message.
  EXPECT_EQ(roundtrip(port, "CHECK SPAMC/1.5\r\nContent-length: 10\r\n\r\nabc", false), "");
  // The socket closes as the time runs out; the session counts it right after.
  for (int i = 0; i < 100 && d->metrics.render().find("limit=\"spamd.read_timeout_ms\"} 2") ==
                                 std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(d->metrics.render().find("limit=\"spamd.read_timeout_ms\"} 2"), std::string::npos);
}

TEST_F(SpamdFixture, ConnectionsOverTheLimitGetTempfail) {
  Config c;
  c.spamd.max_connections = 1;
  c.spamd.read_timeout_ms = 3000;
  start(c);
  asio::io_context io;
  tcp::socket held(io);
  held.connect({asio::ip::make_address("127.0.0.1"), port});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // accepted and counted
  EXPECT_EQ(roundtrip(port, request("CHECK", kHam)),
            "SPAMD/1.5 75 EX_TEMPFAIL too many connections\r\n");
  held.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(roundtrip(port, request("CHECK", kHam)),
            "SPAMD/1.5 0 EX_OK\r\nSpam: False ; 1.0 / 9.0\r\n\r\n");
}

TEST_F(SpamdFixture, UnixSocket) {
  Config c;
  c.scheduler.max_wait_us = 0;
  d = std::make_unique<sf::test::TestDaemon>(c);
  adapter = std::make_shared<SpamdAdapter>(d->ctx);
  std::string path =
      (fs::temp_directory_path() / ("sf_spamd_" + std::to_string(getpid()) + ".sock")).string();
  EXPECT_EQ(d->listeners.add_unix(adapter, path, 0600), "unix:" + path);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  d->start();
  asio::io_context io;
  asio::local::stream_protocol::socket s(io);
  s.connect(asio::local::stream_protocol::endpoint(path));
  std::string req = request("CHECK", kSpam);
  asio::write(s, asio::buffer(req));
  s.shutdown(asio::socket_base::shutdown_send);
  std::string out;
  char buf[1024];
  boost::system::error_code ec;
  for (size_t n; (n = s.read_some(asio::buffer(buf), ec)), !ec;) out.append(buf, n);
  EXPECT_EQ(out, "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\n\r\n");
  d->stop();
  d.reset();
  EXPECT_FALSE(fs::exists(path));  // removed on close
}

TEST_F(SpamdFixture, TellStoresFeedbackByMessageId) {
  fs::path db = fs::temp_directory_path() / ("sf_tell_" + std::to_string(getpid())) / "fb.sqlite";
  fs::remove_all(db.parent_path());
  start();
  StoreFeedback sink(db.string());
  d->ctx.feedback = &sink;
  std::string msg = "Message-ID: <abc@example.org>\r\nSubject: x\r\n\r\nbody\r\n";
  EXPECT_EQ(
      roundtrip(port, request("TELL", msg, "Message-class: spam\r\nSet: local\r\nUser: bob\r\n")),
      "SPAMD/1.5 0 EX_OK\r\nDidSet: local\r\n\r\n");
  auto rows = sink.store().feedback();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].label, sf::rules::Label::spam);
  EXPECT_EQ(rows[0].user, "bob");
  EXPECT_EQ(rows[0].source, sf::rules::FeedbackSource::spamc);
  EXPECT_EQ(rows[0].message_hash, sf::rules::message_id_hash("<abc@example.org>"));
  // Forgetting is not supported: answered without DidRemove.
  EXPECT_EQ(roundtrip(port, request("TELL", msg, "Remove: local\r\n")),
            "SPAMD/1.5 0 EX_OK\r\n\r\n");
  d->ctx.feedback = nullptr;
  d->stop();
  fs::remove_all(db.parent_path());
}

TEST(FeedbackMessageId, FoldedAndMissing) {
  EXPECT_EQ(feedback_message_id("Subject: a\r\nmessage-id:\r\n <x@y>\r\n\r\nb"), "<x@y>");
  std::string none = "Subject: a\r\n\r\nb";
  EXPECT_EQ(feedback_message_id(none), "<" + sf::rules::sha256_hex(none) + "@spamformer>");
}

// ---- the real spamc client against the adapter

TEST_F(SpamdFixture, SpamcCheckExitCodesAndFiltering) {
  if (!have_spamc()) GTEST_SKIP() << "spamc not installed (Debian package spamc)";
  start();
  const std::string spamc = "spamc -d 127.0.0.1 -p " + std::to_string(port);
  Proc spam = run(spamc + " -c", kSpam);
  EXPECT_EQ(spam.status, 1);
  EXPECT_EQ(spam.out, "9.5/9.0\n");
  Proc ham = run(spamc + " -c", kHam);
  EXPECT_EQ(ham.status, 0);
  EXPECT_EQ(ham.out, "1.0/9.0\n");
  Proc filtered = run(spamc, kSpam);
  EXPECT_EQ(filtered.status, 0);
  EXPECT_NE(filtered.out.find("\r\nX-Spam-Flag: YES\r\nX-Spam-Score: 9.5\r\n"), std::string::npos)
      << filtered.out;
  Proc e = run(spamc + " -E", kSpam);
  EXPECT_EQ(e.status, 1);
  Proc y = run(spamc + " -y", kSpam);
  EXPECT_EQ(y.out, "SPAMFORMER_P95");
}

TEST_F(SpamdFixture, SpamcSeesFailOpenHeadersWhenTheBackendIsTooSlow) {
  if (!have_spamc()) GTEST_SKIP() << "spamc not installed (Debian package spamc)";
  Config c;
  c.scheduler.deadline_ms = 200;
  start(c);
  d->backend->delay_ms = 1500;
  Proc r = run("spamc -d 127.0.0.1 -p " + std::to_string(port), kSpam);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out,
            "Subject: win\r\nX-Spam-Status: unchecked\r\n"
            "X-Spamformer: unchecked reason=deadline model=test-model\r\n\r\nP=953\r\n");
}

TEST_F(SpamdFixture, SpamcUnderFailClosedGetsAnErrorNotAVerdict) {
  if (!have_spamc()) GTEST_SKIP() << "spamc not installed (Debian package spamc)";
  Config c;
  c.scheduler.deadline_ms = 100;
  c.scheduler.failure_policy = "closed";
  start(c);
  d->backend->fail = true;
  // Without -x spamc passes the message through unchanged ("safe fallback");
  // with -x it exits with an error status the MTA treats as temporary.
  Proc safe = run("spamc -d 127.0.0.1 -p " + std::to_string(port), kSpam);
  EXPECT_EQ(safe.status, 0);
  EXPECT_EQ(safe.out, kSpam);
  Proc strict = run("spamc -x -d 127.0.0.1 -p " + std::to_string(port), kSpam);
  EXPECT_EQ(strict.status, 74);  // EX_IOERR: spamd answered 75 EX_TEMPFAIL and closed
}

// ---- the whole daemon (serve.h) with the fault-injection backend

namespace {

struct RunningDaemon {
  explicit RunningDaemon(Config c, std::shared_ptr<sf::test::FaultBackend> b)
      : daemon(
            ServeOptions{}, std::move(c),
            [b](const Config&, const ServeOptions&) {
              return std::shared_ptr<const ModelHandle>(sf::test::test_model(b));
            },
            [](const Config& cfg) {
              PolicyBundle p;
              p.policy = make_default_policy(cfg.verdict);
              return p;
            },
            out) {
    thread = std::thread([this] { status = daemon.run(); });
    for (int i = 0; i < 500 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::string text = out.str();
      size_t at = text.find("spamd listening on 127.0.0.1:");
      size_t nl = text.find('\n', at);
      if (at != std::string::npos && nl != std::string::npos)
        port = static_cast<uint16_t>(std::stoi(text.substr(at + 29, nl - at - 29)));
    }
  }
  ~RunningDaemon() {
    if (thread.joinable()) {
      daemon.request_stop();
      thread.join();
    }
  }
  std::ostringstream out;
  Daemon daemon;
  std::thread thread;
  int status = -1;
  uint16_t port = 0;
};

Config daemon_config() {
  Config c;
  c.spamd.listen = {"127.0.0.1:0"};
  c.http.listen = {};
  c.scheduler.max_wait_us = 0;
  c.server.log_scans = false;
  return c;
}

}  // namespace

TEST(Daemon, ShutdownFinishesTheRequestsInFlight) {
  auto b = std::make_shared<sf::test::FaultBackend>();
  RunningDaemon d(daemon_config(), b);
  ASSERT_NE(d.port, 0) << d.out.str();
  // Wait for the model (loaded in the background).
  for (int i = 0;
       i < 200 && roundtrip(d.port, request("CHECK", kSpam)).find("True") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  b->delay_ms = 600;
  std::string reply;
  std::thread client([&] { reply = roundtrip(d.port, request("CHECK", kSpam)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the request is in the model
  d.daemon.request_stop();
  d.thread.join();
  client.join();
  EXPECT_EQ(reply, "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\n\r\n");
  EXPECT_EQ(d.status, 0);
  // The listener is closed: new connections are refused.
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), d.port}, ec);
  EXPECT_TRUE(ec);
}

TEST(Daemon, ModelThatFailsToLoadEndsTheDaemonWithStatus1) {
  std::ostringstream out;
  Daemon d(
      ServeOptions{}, daemon_config(),
      [](const Config&, const ServeOptions&) -> std::shared_ptr<const ModelHandle> {
        throw std::runtime_error("injected load failure");
      },
      [](const Config& cfg) {
        PolicyBundle p;
        p.policy = make_default_policy(cfg.verdict);
        return p;
      },
      out);
  EXPECT_EQ(d.run(), 1);
}

// ---- decisions by the business-rule engine (server.rules_db)

TEST(RulesPolicy, RuleStoreDecidesAndReloads) {
  fs::path dir = fs::temp_directory_path() / ("sf_rules_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Config c;
  c.server.rules_db = (dir / "rules.sqlite").string();
  auto store = std::make_shared<sf::rules::Store>(c.server.rules_db);
  PolicyBundle b = default_policies(c);
  ASSERT_TRUE(b.policy && b.feedback && b.reload_rules && b.poll_rules);
  EXPECT_EQ(b.policy->name(), "rules");
  ScanRequest req;
  req.message = "Subject: x\r\n\r\nbody";
  req.envelope.recipients = {"bob@example.org"};
  req.envelope.sender = "ann@friend.example";
  Decision d = b.policy->decide(req, 0.6, {});
  EXPECT_EQ(d.verdict, Verdict::suspect);
  EXPECT_EQ(d.rule, "default:suspect");
  EXPECT_DOUBLE_EQ(d.spam_threshold, 0.9);
  // A block-list entry and a lower global spam threshold, as `spamformer rules` writes them.
  sf::rules::ListEntry e;
  e.list = "block";
  e.entry = "spammer.example";
  store->add_list_entries({e}, "test");
  store->set_threshold(sf::rules::Scope::global, "", sf::rules::ThresholdKind::spam, 0.5, "test");
  EXPECT_TRUE(b.poll_rules());  // the store changed: reloaded
  EXPECT_FALSE(b.poll_rules());
  d = b.policy->decide(req, 0.6, {});
  EXPECT_EQ(d.verdict, Verdict::spam);
  EXPECT_DOUBLE_EQ(d.spam_threshold, 0.5);
  req.envelope.sender = "x@spammer.example";
  d = b.policy->decide(req, 0.01, {});
  EXPECT_EQ(d.rule, "block-list");
  EXPECT_EQ(d.verdict, Verdict::spam);
  EXPECT_FALSE(d.actions.empty());
  fs::remove_all(dir);
}
