// The spamd protocol as pure functions (service/spamd_protocol.h) and the
// SpamAssassin-format verdict headers (service/scan.h): exact request
// parsing, exact replies, header stripping, and a seeded mutation run of the
// request parser (the libFuzzer harness in fuzz/ does the same with coverage
// guidance where clang is available).
#include <gtest/gtest.h>

#include <random>

#include "service/scan.h"
#include "service/spamd_protocol.h"
#include "spamformer_version.h"

using namespace sf::service;

namespace {

ScanResult scored(double p, Verdict v, std::string rule = "default-spam") {
  ScanResult r;
  r.verdict = v;
  r.probability = p;
  r.spam_threshold = 0.9;
  r.rule = std::move(rule);
  r.model = "tiny";
  return r;
}

SpamdRequest parse_ok(std::string_view head) {
  auto r = parse_spamd_head(head, SpamdLimits{});
  if (auto* e = std::get_if<SpamdError>(&r)) ADD_FAILURE() << "refused: " << e->detail;
  return std::get<SpamdRequest>(r);
}

SpamdError parse_err(std::string_view head, SpamdLimits l = {}) {
  auto r = parse_spamd_head(head, l);
  if (std::holds_alternative<SpamdRequest>(r)) {
    ADD_FAILURE() << "accepted: " << head;
    return {};
  }
  return std::get<SpamdError>(r);
}

}  // namespace

TEST(VerdictHeaders, SpamInSpamAssassinFormat) {
  auto h = verdict_headers(scored(0.953, Verdict::spam));
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0].name + ": " + h[0].value, "X-Spam-Flag: YES");
  EXPECT_EQ(h[1].name + ": " + h[1].value, "X-Spam-Score: 9.5");
  EXPECT_EQ(h[2].name + ": " + h[2].value, "X-Spam-Level: *********");
  EXPECT_EQ(h[3].name + ": " + h[3].value,
            "X-Spam-Status: Yes, score=9.5 required=9.0 tests=SPAMFORMER_P95 autolearn=no "
            "version=spamformer-" SPAMFORMER_VERSION);
  EXPECT_EQ(h[4].name + ": " + h[4].value, "X-Spamformer: p=0.953 rule=default-spam model=tiny");
}

TEST(VerdictHeaders, HamHasNoFlagAndSaysNo) {
  auto h = verdict_headers(scored(0.021, Verdict::ham, "default-ham"));
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].value, "0.2");
  EXPECT_EQ(h[1].value, "");
  EXPECT_EQ(h[2].value,
            "No, score=0.2 required=9.0 tests=SPAMFORMER_P00 autolearn=no "
            "version=spamformer-" SPAMFORMER_VERSION);
}

TEST(VerdictHeaders, UncheckedSaysWhy) {
  ScanResult r;
  r.reason = Unchecked::queue_full;
  r.model = "tiny";
  auto h = verdict_headers(r);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].name + ": " + h[0].value, "X-Spam-Status: unchecked");
  EXPECT_EQ(h[1].name + ": " + h[1].value, "X-Spamformer: unchecked reason=queue_full model=tiny");
}

TEST(VerdictHeaders, ScoreScaleAndSymbols) {
  EXPECT_DOUBLE_EQ(sa_score(0.953), 9.5);
  EXPECT_DOUBLE_EQ(sa_score(1.0), 10.0);
  EXPECT_DOUBLE_EQ(sa_required(0.9), 9.0);
  EXPECT_DOUBLE_EQ(sa_required(0.05), 0.5);
  EXPECT_EQ(sa_symbol(scored(0.0499, Verdict::ham)), "SPAMFORMER_P00");
  EXPECT_EQ(sa_symbol(scored(0.05, Verdict::ham)), "SPAMFORMER_P05");
  EXPECT_EQ(sa_symbol(scored(1.0, Verdict::spam)), "SPAMFORMER_P95");
}

TEST(MessageHeaders, IncomingCopiesOfOurHeadersAreStripped) {
  std::string m =
      "Received: by x\r\nX-Spam-Flag: YES\r\nSubject: hi\r\nx-spam-status: Yes, score=99\r\n"
      "\tfolded=1\r\nX-Spamformer: p=1\r\nX-Spam-Checker-Version: other\r\n\r\n"
      "X-Spam-Flag: YES in the body stays\r\n";
  EXPECT_EQ(strip_our_headers(m),
            "Received: by x\r\nSubject: hi\r\nX-Spam-Checker-Version: other\r\n\r\n"
            "X-Spam-Flag: YES in the body stays\r\n");
}

TEST(MessageHeaders, RewriteAddsOursAtTheEndOfTheHeaderSectionKeepingCrlf) {
  std::string m = "Subject: hi\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n";
  std::string out = rewrite_message(m, verdict_headers(scored(0.1, Verdict::ham, "default-ham")));
  EXPECT_EQ(out,
            "Subject: hi\r\nX-Spam-Score: 1.0\r\nX-Spam-Level: *\r\nX-Spam-Status: No, "
            "score=1.0 required=9.0 tests=SPAMFORMER_P10 autolearn=no "
            "version=spamformer-" SPAMFORMER_VERSION
            "\r\nX-Spamformer: p=0.100 rule=default-ham model=tiny\r\n\r\nbody\r\n");
}

TEST(MessageHeaders, RewriteHandlesLfOnlyAndHeaderOnlyMessages) {
  std::vector<Header> h = {{"X-Spam-Status", "unchecked"}};
  EXPECT_EQ(rewrite_message("A: b\n\nbody", h), "A: b\nX-Spam-Status: unchecked\n\nbody");
  EXPECT_EQ(rewrite_message("A: b", h), "A: b\nX-Spam-Status: unchecked\n");
  EXPECT_EQ(rewrite_message("", h), "X-Spam-Status: unchecked\n");
  EXPECT_EQ(rewrite_message("\nbody", h), "X-Spam-Status: unchecked\n\nbody");
  // Header values cannot inject lines.
  EXPECT_EQ(rewrite_message("A: b\n\n", {{"X-Spamformer", "a\r\nBcc: x"}}),
            "A: b\nX-Spamformer: a  Bcc: x\n\n");
}

TEST(SpamdParse, ReadsCommandVersionAndHeaders) {
  SpamdRequest r = parse_ok("PROCESS SPAMC/1.5\r\nContent-length: 42\r\nUser: bob\r\n\r\n");
  EXPECT_EQ(r.command, SpamdCommand::process);
  EXPECT_EQ(r.version_minor, 5);
  EXPECT_EQ(*r.content_length, 42u);
  EXPECT_EQ(r.user, "bob");
  SpamdRequest t = parse_ok(
      "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local, remote\r\nContent-length: 3\r\n\r\n");
  EXPECT_EQ(t.message_class, "spam");
  EXPECT_TRUE(t.set_local);
  EXPECT_TRUE(t.set_remote);
  EXPECT_EQ(parse_ok("PING SPAMC/1.5\r\n\r\n").command, SpamdCommand::ping);
  EXPECT_EQ(parse_ok("CHECK SPAMC/1.2\nContent-length: 0\nX-Unknown: ignored\n\n").command,
            SpamdCommand::check);
}

TEST(SpamdParse, RefusesMalformedRequestsWithExProtocol) {
  EXPECT_EQ(parse_err("FROB SPAMC/1.5\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("CHECK HTTP/1.1\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("CHECK\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("CHECK SPAMC/1.5\r\n\r\n").detail, "missing Content-length");
  EXPECT_EQ(parse_err("CHECK SPAMC/1.5\r\nContent-length: -1\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("CHECK SPAMC/1.5\r\nContent-length: 1\r\nContent-length: 2\r\n\r\n").code,
            kExProtocol);
  EXPECT_EQ(parse_err("CHECK SPAMC/1.5\r\nno colon here\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("CHECK SPAMC/1.5\r\nContent-length: 1\r\nUser: a b\r\n\r\n").code,
            kExProtocol);
  EXPECT_EQ(parse_err("TELL SPAMC/1.5\r\nContent-length: 1\r\n\r\n").code, kExProtocol);
  EXPECT_EQ(parse_err("TELL SPAMC/1.5\r\nSet: local\r\nContent-length: 1\r\n\r\n").code,
            kExProtocol);
  EXPECT_EQ(parse_err("TELL SPAMC/1.5\r\nMessage-class: eggs\r\nSet: local\r\n"
                      "Content-length: 1\r\n\r\n")
                .code,
            kExProtocol);
}

TEST(SpamdParse, CompressionIsRefusedClearly) {
  SpamdError e = parse_err("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: 5\r\n\r\n");
  EXPECT_EQ(e.code, kExProtocol);
  EXPECT_NE(e.detail.find("spamc -z"), std::string::npos);
}

TEST(SpamdParse, MessageOverTheLimitIsExDataErr) {
  SpamdLimits l;
  l.max_message_bytes = 1000;
  SpamdError e = parse_err("CHECK SPAMC/1.5\r\nContent-length: 1001\r\n\r\n", l);
  EXPECT_EQ(e.code, kExDataErr);
  EXPECT_NE(e.detail.find("spamd.max_message_bytes"), std::string::npos);
}

TEST(SpamdParse, HeadEndAndOldPing) {
  EXPECT_EQ(spamd_head_end("CHECK SPAMC/1.5\r\nContent-length: 1\r\n"), std::string::npos);
  EXPECT_EQ(spamd_head_end("CHECK SPAMC/1.5\r\nContent-length: 1\r\n\r\nX"), 38u);
  EXPECT_EQ(spamd_head_end("\r\n"), std::string::npos);  // no request line yet
  EXPECT_TRUE(spamd_is_old_ping("PING SPAMC/1.2\r\n"));
  EXPECT_FALSE(spamd_is_old_ping("PING SPAMC/1.5\r\n"));
  EXPECT_FALSE(spamd_is_old_ping("PING SPAMC/1.2"));
}

TEST(SpamdReply, ExactRepliesPerCommand) {
  ScanResult spam = scored(0.953, Verdict::spam);
  auto req = [](SpamdCommand c) {
    SpamdRequest r;
    r.command = c;
    return r;
  };
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::check), spam, ""),
            "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\n\r\n");
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::check), scored(0.6, Verdict::suspect), ""),
            "SPAMD/1.5 0 EX_OK\r\nSpam: False ; 6.0 / 9.0\r\n\r\n");
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::symbols), spam, ""),
            "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\nContent-length: 14\r\n\r\n"
            "SPAMFORMER_P95");
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::report_ifspam), scored(0.1, Verdict::ham), ""),
            "SPAMD/1.5 0 EX_OK\r\nSpam: False ; 1.0 / 9.0\r\nContent-length: 0\r\n\r\n");
  std::string report = spamd_scan_reply(req(SpamdCommand::report), spam, "");
  EXPECT_NE(report.find("(9.5 points, 9.0 required)"), std::string::npos);
  EXPECT_NE(report.find(" 9.5 SPAMFORMER_P95"), std::string::npos);
  std::string msg = "Subject: s\r\n\r\nbody\r\n";
  std::string processed = rewrite_message(msg, verdict_headers(spam));
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::process), spam, msg),
            "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\nContent-length: " +
                std::to_string(processed.size()) + "\r\n\r\n" + processed);
  std::string headers = processed.substr(0, processed.size() - 6);  // without "body\r\n"
  EXPECT_EQ(spamd_scan_reply(req(SpamdCommand::headers), spam, msg),
            "SPAMD/1.5 0 EX_OK\r\nSpam: True ; 9.5 / 9.0\r\nContent-length: " +
                std::to_string(headers.size()) + "\r\n\r\n" + headers);
}

TEST(SpamdReply, UncheckedAndTempfail) {
  ScanResult u;
  u.reason = Unchecked::deadline;
  u.spam_threshold = 0.9;
  SpamdRequest check;
  check.command = SpamdCommand::check;
  EXPECT_EQ(spamd_scan_reply(check, u, ""), "SPAMD/1.5 0 EX_OK\r\nSpam: False ; 0.0 / 9.0\r\n\r\n");
  u.tempfail = true;
  EXPECT_EQ(spamd_scan_reply(check, u, ""),
            "SPAMD/1.5 75 EX_TEMPFAIL message not checked (reason=deadline)\r\n");
}

TEST(SpamdReply, ErrorsPongAndTell) {
  EXPECT_EQ(spamd_error_reply({kExProtocol, "bad\r\nthing"}),
            "SPAMD/1.5 76 EX_PROTOCOL bad??thing\r\n");
  EXPECT_EQ(spamd_pong_reply(), "SPAMD/1.5 0 PONG\r\n");
  EXPECT_EQ(spamd_tell_reply(true, false), "SPAMD/1.5 0 EX_OK\r\nDidSet: local\r\n\r\n");
  EXPECT_EQ(ex_name(kExTempFail), "EX_TEMPFAIL");
  EXPECT_EQ(ex_name(12345), "EX_UNKNOWN");
}

// Seeded random mutations of valid requests through the parser and the
// header functions: nothing may crash, hang or throw, and every refusal must
// carry a known EX_* code. (Runs under the sanitizers in fuzz/ with clang.)
TEST(SpamdParse, SurvivesThousandsOfMutatedRequests) {
  const std::vector<std::string> seeds = {
      "CHECK SPAMC/1.5\r\nContent-length: 12\r\nUser: bob\r\n\r\n",
      "TELL SPAMC/1.5\r\nMessage-class: ham\r\nSet: local\r\nRemove: remote\r\n"
      "Content-length: 3\r\n\r\n",
      "PROCESS SPAMC/1.2\nContent-length: 99999\nCompress: zlib\n\n",
      "PING SPAMC/1.2\r\n",
      "Subject: x\r\nX-Spam-Flag: YES\r\n\tcont\r\n\r\nbody",
  };
  std::mt19937 rng(20261122);
  const std::string alphabet =
      "\r\n:,; \t0123456789SPAMC/.-ABCDEFGHIJKLMNOPQRSTUVWXYZlocalremote\x00\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 4) {
        case 0:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1 + rng() % 4);
          break;
        case 2:
          if (pos < s.size()) s[pos] = static_cast<char>(rng() % 256);
          break;
        case 3:
          s.insert(pos, s.substr(0, rng() % 16));
          break;
      }
    }
    size_t end = spamd_head_end(s);
    (void)spamd_is_old_ping(s);
    auto r = parse_spamd_head(end == std::string::npos ? s : s.substr(0, end), SpamdLimits{});
    if (auto* err = std::get_if<SpamdError>(&r)) {
      EXPECT_NE(ex_name(err->code), "EX_UNKNOWN");
      for (char c : spamd_error_reply(*err).substr(0, spamd_error_reply(*err).size() - 2))
        ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable reply byte";
    }
    // Adding our headers then stripping them gives the message back (plus the
    // line break a message without one gets before our headers).
    std::string rewritten = rewrite_message(s, verdict_headers(scored(0.5, Verdict::suspect)));
    std::string back = strip_our_headers(rewritten), orig = strip_our_headers(s);
    if (back != orig) {
      EXPECT_EQ(back, orig + std::string(line_ending(s))) << "input: " << testing::PrintToString(s);
    }
  }
}
