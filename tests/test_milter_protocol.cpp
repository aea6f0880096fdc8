// The milter protocol (service/milter_protocol.h) as pure functions: frame
// splitting and its bounds, byte-exact replies, a Postfix-like session from
// option negotiation to the end-of-message replies for each decision, and a
// seeded mutation run of the session (fuzz/milter_fuzz.cpp does the same
// with coverage guidance where clang is available).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "service/milter_protocol.h"
#include "service/scan.h"

using namespace sf::service;
using namespace std::string_literals;

namespace {

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string frame(char cmd, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size() + 1)) + cmd + data;
}

milter::Frame F(char cmd, const std::string& data = "") { return {cmd, data}; }

ScanResult scored(double p, Verdict v, std::vector<std::string> actions = {}) {
  ScanResult r;
  r.verdict = v;
  r.probability = p;
  r.spam_threshold = 0.9;
  r.rule = v == Verdict::spam ? "default-spam" : "default-ham";
  r.model = "tiny";
  r.actions = std::move(actions);
  return r;
}

// Postfix 3.7's offer: version 6, all actions (0x1ff), all steps (0x1fffff).
milter::Session negotiated(uint32_t actions = 0x1ff) {
  milter::Session s({});
  s.on_frame(F('O', be32(6) + be32(actions) + be32(0x1fffff)));
  return s;
}

// Feeds a message with the given headers and body; returns the session.
void feed(milter::Session& s, const std::vector<std::pair<std::string, std::string>>& headers,
          const std::string& body) {
  const std::string cont = frame('c', "");
  EXPECT_EQ(s.on_frame(F('C',
                         "mx.example\0"
                         "4\x00\x19"
                         "192.0.2.7\0"s))
                .reply,
            cont);
  EXPECT_EQ(s.on_frame(F('H', "client.example\0"s)).reply, cont);
  EXPECT_EQ(s.on_frame(F('M', "<alice@example.org>\0SIZE=100\0"s)).reply, cont);
  EXPECT_EQ(s.on_frame(F('R', "<bob@example.net>\0"s)).reply, cont);
  for (const auto& [n, v] : headers) EXPECT_EQ(s.on_frame(F('L', n + '\0' + v + '\0')).reply, cont);
  EXPECT_EQ(s.on_frame(F('N')).reply, cont);
  EXPECT_EQ(s.on_frame(F('B', body)).reply, cont);
  auto st = s.on_frame(F('E'));
  EXPECT_TRUE(st.scan);
  EXPECT_TRUE(st.reply.empty());
}

}  // namespace

TEST(MilterFrame, SplitsFramesAndWaitsForWholeOnes) {
  std::string buf = frame('B', "hello") + frame('E', "").substr(0, 3);
  auto f = milter::take_frame(buf, 1024);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->cmd, 'B');
  EXPECT_EQ(f->data, "hello");
  EXPECT_FALSE(milter::take_frame(buf, 1024));  // 3 bytes of the next length
  buf += "\x01"s + "E";
  f = milter::take_frame(buf, 1024);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->cmd, 'E');
  EXPECT_TRUE(buf.empty());
}

TEST(MilterFrame, RefusesZeroAndOversizedLengths) {
  std::string zero = be32(0) + "x";
  EXPECT_THROW(milter::take_frame(zero, 1024), milter::MilterError);
  std::string big = be32(1025) + "B";
  EXPECT_THROW(milter::take_frame(big, 1024), milter::MilterError);
  std::string huge = "\xff\xff\xff\xff"s;
  EXPECT_THROW(milter::take_frame(huge, 1024), milter::MilterError);
}

TEST(MilterFrame, NamesCommandsAndReplies) {
  EXPECT_EQ(milter::command_name('B'), "SMFIC_BODY");
  EXPECT_EQ(milter::command_name('O'), "SMFIC_OPTNEG");
  EXPECT_EQ(milter::command_name('K'), "SMFIC_QUIT_NC");
  EXPECT_EQ(milter::command_name('z'), "unknown 0x7a");
  EXPECT_EQ(milter::reply_name('y'), "SMFIR_REPLYCODE");
  EXPECT_EQ(milter::reply_name('p'), "SMFIR_PROGRESS");
}

TEST(MilterReplies, AreByteExact) {
  EXPECT_EQ(milter::encode_reply(milter::Reply::accept),
            "\0\0\0\x01"
            "a"s);
  EXPECT_EQ(milter::encode_reply(milter::Reply::progress),
            "\0\0\0\x01"
            "p"s);
  EXPECT_EQ(milter::addheader_reply("X-A", "b c"),
            "\0\0\0\x09"
            "hX-A\0b c\0"s);
  EXPECT_EQ(milter::chgheader_reply(2, "X-Spam-Flag", ""),
            "\0\0\0\x12"
            "m\0\0\0\x02X-Spam-Flag\0\0"s);
  EXPECT_EQ(milter::replycode_reply("550 5.7.1", "No 100% spam\r\n"),
            "\0\0\0\x1a"
            "y550 5.7.1 No 100? spam??\0"s);
  EXPECT_EQ(milter::quarantine_reply("held"),
            "\0\0\0\x06"
            "qheld\0"s);
  EXPECT_EQ(milter::optneg_reply(6, 0x31, 0x300),
            "\0\0\0\x0d"
            "O\0\0\0\x06\0\0\0\x31\0\0\x03\0"s);
}

TEST(MilterSession, NegotiatesOnlyWhatBothSidesHave) {
  milter::Session s({});
  auto st = s.on_frame(F('O', be32(6) + be32(0x1ff) + be32(0x1fffff)));
  EXPECT_EQ(st.reply, milter::optneg_reply(6, 0x31, 0x300));
  milter::Session old({});
  // An MTA of version 2 offering only ADDHDRS and no steps to skip.
  st = old.on_frame(F('O', be32(2) + be32(0x01) + be32(0)));
  EXPECT_EQ(st.reply, milter::optneg_reply(2, 0x01, 0));
  milter::Session bad({});
  EXPECT_THROW(bad.on_frame(F('O', be32(6))), milter::MilterError);
  milter::Session early({});
  EXPECT_THROW(early.on_frame(F('H', "x\0"s)), milter::MilterError);
}

TEST(MilterSession, ReconstructsTheMessageAndEnvelope) {
  auto s = negotiated();
  EXPECT_TRUE(s.on_frame(F('D', "Ci\0QUEUE1\0{auth_authen}\0alice\0"s)).reply.empty());
  feed(s, {{"Subject", "hi there"}, {"From", "a@example.org"}}, "line 1\r\nline 2\r\n");
  EXPECT_EQ(s.message(), "Subject: hi there\r\nFrom: a@example.org\r\n\r\nline 1\r\nline 2\r\n");
  EXPECT_EQ(s.envelope().client_ip, "192.0.2.7");
  EXPECT_EQ(s.envelope().helo, "client.example");
  EXPECT_EQ(s.envelope().sender, "alice@example.org");
  ASSERT_EQ(s.envelope().recipients.size(), 1u);
  EXPECT_EQ(s.envelope().recipients[0], "bob@example.net");
  EXPECT_TRUE(s.envelope().authenticated);
  EXPECT_EQ(s.envelope().auth_user, "alice");
  EXPECT_EQ(s.macros().at("i"), "QUEUE1");
}

TEST(MilterSession, CapsTheKeptMessage) {
  milter::Limits l;
  l.max_message_bytes = 64;
  milter::Session s(l);
  s.on_frame(F('O', be32(6) + be32(0x1ff) + be32(0)));
  feed(s, {{"Subject", "x"}}, std::string(1000, 'b'));
  EXPECT_TRUE(s.truncated());
  EXPECT_LE(s.message().size(), 66u);
  EXPECT_EQ(s.message().substr(0, 14), "Subject: x\r\n\r\n");
}

TEST(MilterSession, HamIsAcceptedWithOurHeadersAndForgedOnesRemoved) {
  auto s = negotiated();
  feed(s,
       {{"Subject", "s"}, {"X-Spam-Flag", "YES"}, {"x-spam-flag", "YES"}, {"X-Spamformer", "p=1"}},
       "b\r\n");
  ScanResult r = scored(0.12, Verdict::ham);
  std::string disp;
  std::string out = s.finish(r, {}, &disp);
  EXPECT_EQ(disp, "accept");
  std::string want;
  // Incoming copies of our headers, last first.
  for (const auto& name : our_header_names()) {
    if (name == "X-Spam-Flag") {
      want += milter::chgheader_reply(2, name, "") + milter::chgheader_reply(1, name, "");
    } else if (name == "X-Spamformer") {
      want += milter::chgheader_reply(1, name, "");
    }
  }
  for (const auto& h : verdict_headers(r)) want += milter::addheader_reply(h.name, h.value);
  want +=
      "\0\0\0\x01"
      "a"s;
  EXPECT_EQ(out, want);
  EXPECT_NE(out.find("X-Spam-Status\0No, score=1.2"s), std::string::npos);
  EXPECT_EQ(out.find("X-Spam-Flag\0YES"s), std::string::npos);
}

TEST(MilterSession, RejectsTempfailsDiscardsAndQuarantines) {
  milter::Policy p;
  p.reject_text = "Go away";
  p.reject_threshold = 0.95;
  std::string disp;
  auto s = negotiated();
  feed(s, {{"Subject", "s"}}, "b");
  EXPECT_EQ(s.finish(scored(0.97, Verdict::spam, {"move Junk"}), p, &disp),
            "\0\0\0\x13"
            "y550 5.7.1 Go away\0"s);
  EXPECT_EQ(disp, "reject");
  // Below the reject threshold: accepted with headers.
  feed(s, {{"Subject", "s"}}, "b");
  std::string out = s.finish(scored(0.93, Verdict::spam, {"move Junk"}), p, &disp);
  EXPECT_EQ(disp, "accept");
  EXPECT_NE(out.find("X-Spam-Flag\0YES\0"s), std::string::npos);
  // A rule's reject with its own text.
  feed(s, {{"Subject", "s"}}, "b");
  EXPECT_EQ(s.finish(scored(0.5, Verdict::suspect, {"reject No thanks"}), {}, &disp),
            milter::replycode_reply("550 5.7.1", "No thanks"));
  // Fail-closed tempfail from the engine.
  feed(s, {{"Subject", "s"}}, "b");
  ScanResult tf = scored(-1, Verdict::unchecked);
  tf.tempfail = true;
  EXPECT_EQ(s.finish(tf, {}, &disp), milter::replycode_reply("451 4.7.1", "Try again later"));
  EXPECT_EQ(disp, "tempfail");
  feed(s, {{"Subject", "s"}}, "b");
  EXPECT_EQ(s.finish(scored(0.99, Verdict::spam, {"discard"}), {}, &disp),
            "\0\0\0\x01"
            "d"s);
  feed(s, {{"Subject", "s"}}, "b");
  out = s.finish(scored(0.99, Verdict::spam, {"quarantine held for review"}), {}, &disp);
  EXPECT_EQ(disp, "quarantine");
  EXPECT_NE(out.find(milter::quarantine_reply("held for review")), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 5),
            "\0\0\0\x01"
            "a"s);
}

TEST(MilterSession, TagsTheSubjectAndAddsRuleHeaders) {
  auto s = negotiated();
  feed(s, {{"Subject", "cheap pills"}}, "b");
  std::string out =
      s.finish(scored(0.99, Verdict::spam, {"tag-subject [SPAM]", "add-header X-Rule: r1"}), {});
  EXPECT_NE(out.find(milter::chgheader_reply(1, "Subject", "[SPAM] cheap pills")),
            std::string::npos);
  EXPECT_NE(out.find(milter::addheader_reply("X-Rule", "r1")), std::string::npos);
  // Already tagged: left alone.
  feed(s, {{"Subject", "[SPAM] again"}}, "b");
  out = s.finish(scored(0.99, Verdict::spam, {"tag-subject [SPAM]"}), {});
  EXPECT_EQ(out.find("Subject\0"s), std::string::npos);
}

TEST(MilterSession, UncheckedPassesWithUncheckedStatus) {
  auto s = negotiated();
  feed(s, {{"Subject", "s"}}, "b");
  ScanResult r = scored(-1, Verdict::unchecked);
  r.reason = Unchecked::deadline;
  std::string disp;
  std::string out = s.finish(r, {}, &disp);
  EXPECT_EQ(disp, "accept");
  EXPECT_NE(out.find(milter::addheader_reply("X-Spam-Status", "unchecked")), std::string::npos);
}

TEST(MilterSession, WithoutHeaderActionsOnlyAccepts) {
  auto s = negotiated(0);  // the MTA offers no actions
  feed(s, {{"Subject", "s"}, {"X-Spam-Flag", "YES"}}, "b");
  EXPECT_EQ(s.finish(scored(0.99, Verdict::spam, {"quarantine"}), {}),
            "\0\0\0\x01"
            "a"s);
}

TEST(MilterSession, AbortQuitAndMalformedCommands) {
  auto s = negotiated();
  s.on_frame(F('M', "<a@b>\0"s));
  s.on_frame(F('L', "Subject\0x\0"s));
  EXPECT_TRUE(s.on_frame(F('A')).reply.empty());
  EXPECT_EQ(s.message(), "\r\n");
  EXPECT_TRUE(s.envelope().sender.empty());
  EXPECT_TRUE(s.on_frame(F('Q')).close);
  EXPECT_THROW(s.on_frame(F('L', "Subject\0x"s)), milter::MilterError);  // no final NUL
  EXPECT_THROW(s.on_frame(F('L', "Subject\0"s)), milter::MilterError);   // no value
  EXPECT_THROW(s.on_frame(F('C', "host"s)), milter::MilterError);
  EXPECT_THROW(s.on_frame(F('C',
                            "host\0"
                            "4\0"s)),
               milter::MilterError);
  EXPECT_THROW(s.on_frame(F('z', "")), milter::MilterError);
  // QUIT_NC: the next connection starts with option negotiation again.
  EXPECT_TRUE(s.on_frame(F('K')).reply.empty());
  EXPECT_THROW(s.on_frame(F('H', "x\0"s)), milter::MilterError);
}

// Seeded random mutations of a valid session stream: nothing may crash or
// throw anything but MilterError, replies are whole frames, and the kept
// message stays within its cap.
TEST(MilterSession, SurvivesThousandsOfMutatedStreams) {
  std::string seed = frame('O', be32(6) + be32(0x1ff) + be32(0x1fffff)) + frame('D', "Cj\0mx\0"s) +
                     frame('C',
                           "h\0"
                           "4\x00\x19"
                           "1.2.3.4\0"s) +
                     frame('H', "x\0"s) + frame('M', "<a@b>\0"s) + frame('R', "<c@d>\0"s) +
                     frame('L', "Subject\0hi\0"s) + frame('L', "X-Spam-Flag\0YES\0"s) +
                     frame('N', "") + frame('B', "body\r\n") + frame('E', "") + frame('A', "") +
                     frame('K', "") + frame('Q', "");
  std::mt19937 rng(20261122);
  ScanResult r = scored(0.99, Verdict::spam, {"tag-subject [S]"});
  int ends = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::string in = seed;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !in.empty(); ++e) {
      size_t at = rng() % in.size();
      switch (rng() % 4) {
        case 0:
          in[at] = static_cast<char>(rng());
          break;
        case 1:
          in.erase(at, 1 + rng() % 8);
          break;
        case 2:
          in.insert(at, std::string(1 + rng() % 4, static_cast<char>(rng())));
          break;
        default:
          in = in.substr(0, at);
          break;
      }
    }
    milter::Limits l;
    l.max_message_bytes = 256;
    l.max_command_bytes = 4096;
    milter::Session s(l);
    try {
      while (auto f = milter::take_frame(in, l.max_command_bytes)) {
        auto st = s.on_frame(*f);
        std::string rep = st.reply;
        if (st.scan) {
          rep += s.finish(r, {});
          ++ends;
        }
        while (!rep.empty()) ASSERT_TRUE(milter::take_frame(rep, 1 << 20));
        ASSERT_LE(s.message().size(), 258u);
        if (st.close) break;
      }
    } catch (const milter::MilterError&) {
    }
  }
  EXPECT_GT(ends, 100);  // the mutations still reach the end of message often
}
