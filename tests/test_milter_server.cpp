// The milter adapter (service/milter_server.h) over real loopback sockets,
// with the fault-injecting backend of daemon_fixture.h (a body "P=953" scores
// p=0.953): a whole Postfix-like session with the verdict headers, the
// reject threshold, fail-open on a backend failure, a malformed frame and a
// read timeout closing the connection.
#include <gtest/gtest.h>

#include <string>

#include "daemon_fixture.h"
#include "service/milter_protocol.h"
#include "service/milter_server.h"

using namespace sf::service;
using namespace std::string_literals;

namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string frame(char cmd, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size() + 1)) + cmd + data;
}

struct MilterFixture : ::testing::Test {
  void start(Config c = {}) {
    c.scheduler.max_wait_us = 0;
    d = std::make_unique<sf::test::TestDaemon>(c);
    port = sf::test::TestDaemon::port_of(d->add_tcp(std::make_shared<MilterAdapter>(d->ctx)));
    d->start();
  }
  // Sends a whole message session; returns the frames the service answered
  // until the end-of-message verdict (or the connection closed).
  std::vector<milter::Frame> session(const std::string& body, bool* closed = nullptr) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    std::string out = frame('O', be32(6) + be32(0x1ff) + be32(0x1fffff)) +
                      frame('C',
                            "h\0"
                            "4\x00\x19"
                            "192.0.2.1\0"s) +
                      frame('M', "<a@example.org>\0"s) + frame('R', "<b@example.net>\0"s) +
                      frame('L', "Subject\0test\0"s) + frame('L', "X-Spam-Flag\0YES\0"s) +
                      frame('N', "") + frame('B', body) + frame('E', "");
    asio::write(s, asio::buffer(out));
    std::vector<milter::Frame> got;
    std::string buf;
    char tmp[4096];
    boost::system::error_code ec;
    for (;;) {
      while (auto f = milter::take_frame(buf, 1 << 20)) {
        got.push_back(*f);
        char c = f->cmd;
        if (c == 'a' || c == 'y' || c == 'd' || c == 't' || c == 'r') {
          asio::write(s, asio::buffer(frame('Q', "")));
          return got;
        }
      }
      size_t n = s.read_some(asio::buffer(tmp), ec);
      if (ec) break;
      buf.append(tmp, n);
    }
    if (closed) *closed = true;
    return got;
  }
  std::unique_ptr<sf::test::TestDaemon> d;
  uint16_t port = 0;
};

bool has(const std::vector<milter::Frame>& fs, char cmd, const std::string& data) {
  for (const auto& f : fs)
    if (f.cmd == cmd && f.data == data) return true;
  return false;
}

}  // namespace

TEST_F(MilterFixture, SpamIsAcceptedWithHeadersAndForgedOnesDeleted) {
  start();
  auto got = session("P=953\r\n");
  ASSERT_GE(got.size(), 7u);
  EXPECT_EQ(got[0].cmd, 'O');
  EXPECT_EQ(got[0].data, be32(6) + be32(0x31) + be32(0x300));
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(got[i].cmd, 'c') << i;  // connect .. body
  EXPECT_TRUE(has(got, 'm', be32(1) + "X-Spam-Flag\0\0"s));
  EXPECT_TRUE(has(got, 'h', "X-Spam-Flag\0YES\0"s));
  EXPECT_TRUE(has(got, 'h',
                  "X-Spam-Score\0"
                  "9.5\0"s));
  EXPECT_TRUE(has(got, 'h', "X-Spamformer\0p=0.953 rule=default-spam model=test-model\0"s));
  EXPECT_EQ(got.back().cmd, 'a');
}

TEST_F(MilterFixture, RejectThresholdGives550) {
  Config c;
  c.milter.reject_threshold = 0.9;
  c.milter.reject_text = "No spam here";
  start(c);
  auto got = session("P=953\r\n");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().cmd, 'y');
  EXPECT_EQ(got.back().data, "550 5.7.1 No spam here\0"s);
  got = session("P=100\r\n");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().cmd, 'a');
  EXPECT_TRUE(has(got, 'h', "X-Spamformer\0p=0.100 rule=default-ham model=test-model\0"s));
  EXPECT_FALSE(has(got, 'h', "X-Spam-Flag\0YES\0"s));
}

TEST_F(MilterFixture, BackendFailureFailsOpenUnchecked) {
  start();
  d->backend->fail = true;
  auto got = session("P=953\r\n");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().cmd, 'a');
  EXPECT_TRUE(has(got, 'h', "X-Spam-Status\0unchecked\0"s));
  EXPECT_FALSE(has(got, 'h', "X-Spam-Flag\0YES\0"s));
}

TEST_F(MilterFixture, MalformedFrameAndSilenceCloseTheConnection) {
  Config c;
  c.milter.read_timeout_ms = 300;
  start(c);
  asio::io_context io;
  boost::system::error_code ec;
  char tmp[64];
  {
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(be32(0) + "x"));  // zero-length frame
    s.read_some(asio::buffer(tmp), ec);
    EXPECT_EQ(ec, asio::error::eof);
  }
  {
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(frame('H', "x\0"s)));  // before option negotiation
    s.read_some(asio::buffer(tmp), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
  {
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    auto t0 = std::chrono::steady_clock::now();
    s.read_some(asio::buffer(tmp), ec);  // says nothing: closed after the read timeout
    EXPECT_TRUE(ec);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  }
}
