// Mail extraction (model/mail.h) under its limits and on hostile input: size, parts, depth,
// body text caps, and randomly mutated messages (output must stay valid UTF-8).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "model/mail.h"
#include "tests/test_mail_util.h"

namespace sf::mail {
namespace {

using test::base64;
using test::is_utf8;
using test::simple_message;

bool has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A 40 MB attachment after a text part: only max_input_bytes are parsed, the text survives.
TEST(MailLimits, FortyMegabyteAttachmentIsCutBeforeParsing) {
  std::string m =
      "From: big@example.com\nSubject: large\nContent-Type: multipart/mixed; boundary=big\n\n"
      "--big\nContent-Type: text/plain\n\nThe text before the attachment.\n"
      "--big\nContent-Type: application/octet-stream; name=\"huge.bin\"\n"
      "Content-Transfer-Encoding: base64\n\n";
  const std::string line = std::string(76, 'A') + "\n";
  const size_t target = 40u << 20;
  m.reserve(target + 100);
  while (m.size() < target) m += line;
  m += "--big--\n";
  const Extracted e = extract(m);
  EXPECT_TRUE(e.flags & kInputTruncated);
  EXPECT_TRUE(e.flags & kUnterminatedMultipart);
  EXPECT_EQ(e.body_text, "The text before the attachment.");
  EXPECT_EQ(e.attachment_names, std::vector<std::string>{"huge.bin"});
}

TEST(MailLimits, InputCapIsConfigurable) {
  Limits limits;
  limits.max_input_bytes = 40;
  const Extracted e =
      extract("Subject: s\n\n0123456789012345678901234567890123456789TAIL\n", limits);
  EXPECT_TRUE(e.flags & kInputTruncated);
  EXPECT_FALSE(has(e.body_text, "TAIL"));
  EXPECT_TRUE(has(e.body_text, "0123"));
}

std::string nested(int levels, std::string_view leaf_text) {
  std::string m = "Subject: nest\n";
  for (int i = 0; i < levels; ++i) {
    m += "Content-Type: multipart/mixed; boundary=\"n" + std::to_string(i) + "\"\n\n--n" +
         std::to_string(i) + "\n";
  }
  m += "Content-Type: text/plain\n\n";
  m += leaf_text;
  m += "\n";
  for (int i = levels - 1; i >= 0; --i) m += "--n" + std::to_string(i) + "--\n";
  return m;
}

TEST(MailLimits, DepthCap) {
  const Extracted ok = extract(nested(8, "leaf at eight"));
  EXPECT_EQ(ok.body_text, "leaf at eight");
  EXPECT_FALSE(ok.flags & kTooDeep);
  const Extracted deep = extract(nested(9, "leaf at nine"));
  EXPECT_TRUE(deep.flags & kTooDeep);
  EXPECT_FALSE(has(deep.body_text, "leaf"));
  Limits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(extract(nested(3, "x"), limits).flags & kTooDeep);
  EXPECT_FALSE(extract(nested(2, "x"), limits).flags & kTooDeep);
}

TEST(MailLimits, VeryDeepNestingIsHarmless) {
  const Extracted e = extract(nested(50000, "bottom"));
  EXPECT_TRUE(e.flags & kTooDeep);
  EXPECT_LE(e.parts, 9u);
}

TEST(MailLimits, DeepMessageRfc822NestingIsCapped) {
  std::string m;
  for (int i = 0; i < 20; ++i)
    m += "Subject: level " + std::to_string(i) + "\nContent-Type: message/rfc822\n\n";
  m += "Subject: innermost\n\ninnermost body\n";
  const Extracted e = extract(m);
  EXPECT_TRUE(e.flags & kTooDeep);
  EXPECT_EQ(e.subject, "level 0");
  EXPECT_FALSE(has(e.body_text, "innermost"));
}

std::string many_parts(int n) {
  std::string m = "Subject: parts\nContent-Type: multipart/mixed; boundary=p\n\n";
  for (int i = 0; i < n; ++i) m += "--p\n\npart" + std::to_string(i) + "\n";
  m += "--p--\n";
  return m;
}

TEST(MailLimits, PartCap) {
  const Extracted e = extract(many_parts(150));
  EXPECT_TRUE(e.flags & kTooManyParts);
  EXPECT_EQ(e.parts, 100u);
  EXPECT_TRUE(has(e.body_text, "part98"));
  EXPECT_FALSE(has(e.body_text, "part99"));  // the message itself is part 1
  EXPECT_FALSE(e.flags & kUnterminatedMultipart);
  Limits limits;
  limits.max_parts = 5;
  const Extracted small = extract(many_parts(10), limits);
  EXPECT_EQ(small.parts, 5u);
  EXPECT_TRUE(small.flags & kTooManyParts);
  EXPECT_FALSE(extract(many_parts(4), limits).flags & kTooManyParts);
}

TEST(MailLimits, BodyTextCapCutsOnCharacterBoundary) {
  Limits limits;
  limits.max_body_text_bytes = 101;
  std::string body;
  for (int i = 0; i < 200; ++i) body += "\xE2\x82\xAC ";  // "€ " (3 + 1 bytes)
  const Extracted e = extract(simple_message("text/plain; charset=utf-8", body), limits);
  EXPECT_TRUE(e.flags & kBodyTextTruncated);
  EXPECT_LE(e.body_text.size(), 101u);
  EXPECT_GE(e.body_text.size(), 97u);
  EXPECT_TRUE(is_utf8(e.body_text));
  const Extracted fits = extract(simple_message("text/plain", "short\n"), limits);
  EXPECT_FALSE(fits.flags & kBodyTextTruncated);
}

TEST(MailLimits, BodyTextCapAppliesAcrossPartsAndHtml) {
  Limits limits;
  limits.max_body_text_bytes = 50;
  std::string m = "Content-Type: multipart/mixed; boundary=c\n\n";
  for (int i = 0; i < 10; ++i) {
    m += "--c\nContent-Type: text/html\n\n<p>" + std::string(30, static_cast<char>('a' + i)) +
         "</p>\n";
  }
  m += "--c--\n";
  const Extracted e = extract(m, limits);
  EXPECT_TRUE(e.flags & kBodyTextTruncated);
  EXPECT_LE(e.body_text.size(), 50u);
  EXPECT_TRUE(has(e.body_text, std::string(30, 'a')));
}

// Messages of several shapes, then random byte-level mutations of them.
std::vector<std::string> seed_messages() {
  std::vector<std::string> seeds;
  seeds.push_back(simple_message("text/plain; charset=utf-8", "Hello \xE2\x9C\x93 world\n"));
  seeds.push_back(simple_message("text/html; charset=iso-8859-1",
                                 "<p>caf\xE9 <a href=\"http://x.example/\">link</a></p><script>"
                                 "x</script>\n"));
  seeds.push_back(
      "Subject: =?utf-8?B?w6nDqMOg?= =?iso-8859-1?Q?caf=E9?=\nFrom: =?utf-8?q?A=C3=A9?= "
      "<a@b.example>\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\n"
      "Content-Type: multipart/alternative; boundary=yy\n\n--yy\nContent-Type: text/plain; "
      "charset=koi8-r\nContent-Transfer-Encoding: quoted-printable\n\n=F0=D2=C9=D7=C5=D4\n--yy\n"
      "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n" +
      base64("<div>html <b>part</b></div>") +
      "--yy--\n--zz\nContent-Type: application/pdf\nContent-Disposition: attachment; "
      "filename*=utf-8''r%C3%A9sum%C3%A9.pdf\n\nJVBERi0=\n--zz\nContent-Type: message/rfc822\n\n"
      "Subject: inner\n\ninner body\n--zz--\n");
  seeds.push_back(simple_message("text/plain; charset=shift_jis",
                                 base64(test::encode("\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3"
                                                     "\x81\xA1\xE3\x81\xAF",
                                                     "SHIFT_JIS")),
                                 "Content-Transfer-Encoding: base64\n"));
  return seeds;
}

std::string mutate(const std::string& in, std::mt19937& rng) {
  std::string s = in;
  std::uniform_int_distribution<int> ops(0, 7);
  static const std::vector<std::string> tokens = {"\n--zz\n",
                                                  "\n--yy--\n",
                                                  "=?",
                                                  "?=",
                                                  "=?utf-8?B?",
                                                  "\0",
                                                  "\xFF\xFE",
                                                  "<div>",
                                                  "</a>",
                                                  "\r",
                                                  "\n\n",
                                                  "=",
                                                  "Content-Type: multipart/mixed; boundary=q\n",
                                                  "<a href=",
                                                  "\xE2\x82",
                                                  "charset=x-bogus",
                                                  "Content-Transfer-Encoding: base64\n",
                                                  "%",
                                                  "'",
                                                  "\""};
  const int rounds = 1 + static_cast<int>(rng() % 8);
  for (int r = 0; r < rounds && !s.empty(); ++r) {
    const size_t pos = rng() % (s.size() + 1);
    switch (ops(rng)) {
      case 0:  // flip a byte
        if (pos < s.size()) s[pos] = static_cast<char>(rng() & 0xFF);
        break;
      case 1:  // insert random bytes
        for (int k = static_cast<int>(rng() % 6); k >= 0; --k) {
          s.insert(s.begin() + static_cast<long>(pos), static_cast<char>(rng() & 0xFF));
        }
        break;
      case 2:  // delete a range
        s.erase(pos, rng() % 40);
        break;
      case 3: {  // duplicate a range
        const std::string chunk = s.substr(pos, rng() % 200);
        s.insert(std::min(s.size(), static_cast<size_t>(rng() % (s.size() + 1))), chunk);
        break;
      }
      case 4:  // truncate
        s.resize(pos);
        break;
      case 5: {  // insert a structural token
        const std::string& t = tokens[rng() % tokens.size()];
        s.insert(pos, t == "\0" ? std::string(1, '\0') : t);
        break;
      }
      case 6:  // swap line endings
        for (size_t k = pos; k < s.size() && k < pos + 400; ++k) {
          if (s[k] == '\n') s[k] = '\r';
        }
        break;
      default:  // splice with itself
        s = s.substr(0, pos) + in.substr(rng() % (in.size() + 1));
        break;
    }
  }
  return s;
}

TEST(MailRobustness, MutatedMessagesGiveValidUtf8) {
  std::mt19937 rng(20070401);
  const std::vector<std::string> seeds = seed_messages();
  Limits small;
  small.max_body_text_bytes = 64;
  small.max_parts = 4;
  small.max_depth = 2;
  int checked = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string m = mutate(seeds[static_cast<size_t>(i) % seeds.size()], rng);
    const Extracted e = extract(m, i % 3 == 0 ? small : Limits{});
    SCOPED_TRACE("mutation " + std::to_string(i));
    ASSERT_TRUE(is_utf8(e.model_text()));
    for (const std::string& name : e.attachment_names) ASSERT_TRUE(is_utf8(name));
    ASSERT_FALSE(e.flags & kInternalError);
    ASSERT_EQ(e.flags >> kFlagCount, 0u);
    ++checked;
  }
  EXPECT_EQ(checked, 600);
}

TEST(MailRobustness, RandomBytesGiveValidUtf8) {
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string m(rng() % 3000, '\0');
    for (char& c : m) c = static_cast<char>(rng() & 0xFF);
    if (i % 2 == 0) m = "Content-Type: text/html\n\n" + m;
    const Extracted e = extract(m);
    ASSERT_TRUE(is_utf8(e.model_text())) << i;
    ASSERT_FALSE(e.flags & kInternalError);
  }
}

}  // namespace
}  // namespace sf::mail
