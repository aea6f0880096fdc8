// Mail extraction (model/mail.h): MIME structure, bodies, charsets, HTML and headers.
// Every message here is written by the test itself.
#include <gtest/gtest.h>

#include <string>

#include "model/mail.h"
#include "tests/test_mail_util.h"

namespace sf::mail {
namespace {

using test::base64;
using test::encode;
using test::is_utf8;
using test::simple_message;

bool has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(MailStructure, AlternativePrefersPlainText) {
  const std::string m =
      "From: a@example.com\nSubject: alt\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n"
      "preamble text\n--b1\nContent-Type: text/plain\n\nplain words here\n"
      "--b1\nContent-Type: text/html\n\n<p>html words here</p>\n--b1--\nepilogue\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.body_text, "plain words here");
  EXPECT_FALSE(e.flags & kHtmlOnly);
  EXPECT_EQ(e.parts, 3u);
}

TEST(MailStructure, HtmlOnlyBodyIsRendered) {
  const Extracted e = extract(
      simple_message("text/html; charset=utf-8", "<html><body><p>Only html</p></body></html>\n"));
  EXPECT_EQ(e.body_text, "Only html");
  EXPECT_TRUE(e.flags & kHtmlOnly);
}

TEST(MailStructure, AlternativeWithEmptyPlainUsesHtml) {
  const std::string m =
      "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\n  \n"
      "--b\nContent-Type: text/html\n\n<b>rich</b> text\n--b--\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.body_text, "rich text");
  EXPECT_TRUE(e.flags & kHtmlOnly);
}

TEST(MailStructure, NestedMixedCollectsAttachmentNamesNotTheirText) {
  const std::string m =
      "From: Bob <bob@example.net>\nSubject: report\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
      "--outer\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n"
      "--inner\nContent-Type: text/plain; charset=us-ascii\n\nSee the attached report.\n"
      "--inner\nContent-Type: text/html\n\n<p>See the <i>attached</i> report.</p>\n--inner--\n"
      "--outer\nContent-Type: text/plain; name=\"notes.txt\"\n"
      "Content-Disposition: attachment; filename=\"notes.txt\"\n\nSECRET ATTACHMENT TEXT\n"
      "--outer\nContent-Type: application/pdf; name=\"=?utf-8?B?UmVwb3J0IMOcYmVyc2ljaHQ=?=.pdf\"\n"
      "Content-Transfer-Encoding: base64\nContent-Disposition: attachment\n\nJVBERi0xLjQK\n"
      "--outer\nContent-Type: image/png\nContent-Disposition: inline;\n"
      " filename*0*=utf-8''%E2%82%AC%20rates;\n filename*1=\".png\"\n\n\n--outer--\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.body_text, "See the attached report.");
  EXPECT_FALSE(has(e.body_text, "SECRET"));
  ASSERT_EQ(e.attachment_names.size(), 3u);
  EXPECT_EQ(e.attachment_names[0], "notes.txt");
  EXPECT_EQ(e.attachment_names[1],
            "Report \xC3\x9C"
            "bersicht.pdf");
  EXPECT_EQ(e.attachment_names[2], "\xE2\x82\xAC rates.png");
  EXPECT_EQ(e.parts, 7u);
  EXPECT_EQ(e.flags & (kMissingBoundary | kUnterminatedMultipart | kNoTextBody), 0u);
}

TEST(MailStructure, EmbeddedMessageContributesSubjectAndBody) {
  const std::string m =
      "Subject: Fwd: offer\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
      "Content-Type: text/plain\n\nSee below.\n--x\nContent-Type: message/rfc822\n\n"
      "From: spammer@bad.example\nSubject: =?utf-8?q?Cheap_w=C3=A4tches?=\n\nBuy now!\n--x--\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.subject, "Fwd: offer");
  EXPECT_EQ(e.body_text, "See below.\nCheap w\xC3\xA4tches\nBuy now!");
}

TEST(MailStructure, DigestPartsDefaultToMessages) {
  const std::string m =
      "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: first\n\none\n--d\n\n"
      "Subject: second\n\ntwo\n--d--\n";
  EXPECT_EQ(extract(m).body_text, "first\none\nsecond\ntwo");
}

TEST(MailStructure, BoundaryOnlyMatchesWholeLines) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\n"
      "a line mentioning --XX inside\n--XX--\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.body_text, "a line mentioning --XX inside");
  EXPECT_EQ(e.parts, 2u);
}

TEST(MailStructure, QuotedBoundaryWithSemicolon) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=\"a;b=c\"\n\n--a;b=c\n\nfirst\n--a;b=c--\n";
  EXPECT_EQ(extract(m).body_text, "first");
}

TEST(MailStructure, BrokenBoundaryKeepsTextAsPlainBody) {
  const std::string m =
      "Subject: s\nContent-Type: multipart/mixed; boundary=\"declared\"\n\n"
      "--different\nContent-Type: text/plain\n\nvisible text\n--different--\n";
  const Extracted e = extract(m);
  EXPECT_TRUE(e.flags & kMissingBoundary);
  EXPECT_TRUE(has(e.body_text, "visible text"));
}

TEST(MailStructure, MissingBoundaryParameterIsGuessed) {
  const std::string m =
      "Subject: s\nContent-Type: multipart/mixed\n\nThis is MIME.\n"
      "--=_guess_1\nContent-Type: text/plain\n\nguessed part one\n"
      "--=_guess_1\nContent-Type: text/html\n\n<p>part two</p>\n--=_guess_1--\n";
  const Extracted e = extract(m);
  EXPECT_TRUE(e.flags & kMissingBoundary);
  EXPECT_EQ(e.body_text, "guessed part one\npart two");
}

TEST(MailStructure, MissingBoundaryWithoutDelimitersIsPlainText) {
  const Extracted e = extract("Content-Type: multipart/mixed\n\njust some text -- with dashes\n");
  EXPECT_TRUE(e.flags & kMissingBoundary);
  EXPECT_EQ(e.body_text, "just some text -- with dashes");
}

TEST(MailStructure, UnterminatedMultipartKeepsLastPart) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=q\n\n--q\n\nfirst\n--q\n\nsecond, never closed\n";
  const Extracted e = extract(m);
  EXPECT_TRUE(e.flags & kUnterminatedMultipart);
  EXPECT_EQ(e.body_text, "first\nsecond, never closed");
}

TEST(MailStructure, UnterminatedInnerMultipartDoesNotSwallowOuterParts) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
      "Content-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
      "inner plain\n--A\nContent-Type: text/plain\n\nouter after\n--A--\n";
  const Extracted e = extract(m);
  EXPECT_EQ(e.body_text, "inner plain\nouter after");
  EXPECT_TRUE(e.flags & kUnterminatedMultipart);
  EXPECT_FALSE(has(e.body_text, "Content-Type"));
}

TEST(MailStructure, MissingBlankLineAfterHeader) {
  const Extracted e = extract("Subject: hi\nFrom: x@y.example\nDear friend, this is the body\n");
  EXPECT_TRUE(e.flags & kMalformedHeader);
  EXPECT_EQ(e.subject, "hi");
  EXPECT_EQ(e.body_text, "Dear friend, this is the body");
}

TEST(MailStructure, MboxFromLineIsSkipped) {
  const Extracted e =
      extract("From someone@example.com Mon Jan  1 00:00:00 2007\nSubject: s\n\nbody\n");
  EXPECT_EQ(e.subject, "s");
  EXPECT_EQ(e.body_text, "body");
  EXPECT_FALSE(e.flags & kMalformedHeader);
}

TEST(MailStructure, CrlfAndLfGiveTheSameText) {
  std::string lf =
      "Subject: line endings\nContent-Type: multipart/alternative; boundary=z\n\n--z\n"
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n"
      "\ncaf=E9 \nsecond=\n line\n--z--\n";
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const Extracted a = extract(lf);
  const Extracted b = extract(crlf);
  EXPECT_EQ(a.model_text(), b.model_text());
  EXPECT_EQ(a.body_text, "caf\xC3\xA9\nsecond line");
}

TEST(MailBody, Base64Utf8) {
  const std::string text =
      "Gr\xC3\xBC\xC3\x9F"
      "e aus K\xC3\xB6ln \xE2\x80\x94 \xE2\x9C\x93";
  const Extracted e = extract(simple_message("text/plain; charset=UTF-8", base64(text),
                                             "Content-Transfer-Encoding: base64\n"));
  EXPECT_EQ(e.body_text, text);
  EXPECT_EQ(e.flags & (kBadBase64 | kCharsetDetected | kInvalidUtf8), 0u);
}

TEST(MailBody, QuotedPrintableLatin1) {
  const Extracted e = extract(
      simple_message("text/plain; charset=\"iso-8859-1\"",
                     "Caf=E9 cr=E8me br=FBl=E9e, na=EFve =\nsoft break, trailing blanks   \nkept "
                     "line=3D\n",
                     "Content-Transfer-Encoding: quoted-printable\n"));
  EXPECT_EQ(e.body_text,
            "Caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
            "e, na\xC3\xAFve soft break, trailing "
            "blanks\nkept line=");
  EXPECT_EQ(e.flags & (kBadQuotedPrintable | kCharsetDetected | kInvalidUtf8), 0u);
}

TEST(MailBody, BadQuotedPrintableIsFlaggedAndKept) {
  const Extracted e = extract(simple_message("text/plain", "price =ZZ 100\n",
                                             "Content-Transfer-Encoding: quoted-printable\n"));
  EXPECT_TRUE(e.flags & kBadQuotedPrintable);
  EXPECT_EQ(e.body_text, "price =ZZ 100");
}

// Japanese, Russian and Chinese bodies in their legacy charsets, bytes made with iconv.
struct LegacyCase {
  const char* label;
  const char* iconv_name;
  const char* utf8;
};

class MailLegacyCharset : public ::testing::TestWithParam<LegacyCase> {};

TEST_P(MailLegacyCharset, DecodesDeclaredCharset) {
  const LegacyCase& c = GetParam();
  const std::string bytes = encode(c.utf8, c.iconv_name);
  ASSERT_NE(bytes, c.utf8);
  const Extracted e = extract(simple_message(std::string("text/plain; charset=") + c.label,
                                             base64(bytes), "Content-Transfer-Encoding: base64\n"));
  EXPECT_EQ(e.body_text, c.utf8);
  EXPECT_EQ(e.flags & (kCharsetDetected | kInvalidUtf8 | kUnknownCharset), 0u);
}

TEST_P(MailLegacyCharset, DetectsMissingCharset) {
  const LegacyCase& c = GetParam();
  // Long enough for a statistical detector.
  std::string text;
  for (int i = 0; i < 6; ++i) text += std::string(c.utf8) + "\n";
  const Extracted e = extract(simple_message("text/plain", encode(text, c.iconv_name),
                                             "Content-Transfer-Encoding: 8bit\n"));
  EXPECT_TRUE(e.flags & kCharsetDetected);
  EXPECT_EQ(e.body_text, text.substr(0, text.size() - 1));
}

INSTANTIATE_TEST_SUITE_P(
    Charsets, MailLegacyCharset,
    ::testing::Values(
        LegacyCase{"Shift_JIS", "SHIFT_JIS",
                   "\xE3\x81\x8A\xE5\xAE\xA2\xE6\xA7\x98\xE3\x81\xB8\xE3\x81\xAE\xE3\x81\x94\xE6"
                   "\xA1\x88\xE5\x86\x85\xE3\x80\x82\xE6\x9C\xAC\xE6\x97\xA5\xE3\x81\xAF\xE7\x89"
                   "\xB9\xE5\x88\xA5\xE3\x81\xAA\xE5\x89\xB2\xE5\xBC\x95\xE3\x81\x8C\xE3\x81\x82"
                   "\xE3\x82\x8A\xE3\x81\xBE\xE3\x81\x99\xE3\x80\x82"},
        LegacyCase{"koi8-r", "KOI8-R",
                   "\xD0\x97\xD0\xB4\xD1\x80\xD0\xB0\xD0\xB2\xD1\x81\xD1\x82\xD0\xB2\xD1\x83\xD0"
                   "\xB9\xD1\x82\xD0\xB5, \xD1\x8D\xD1\x82\xD0\xBE \xD0\xBF\xD0\xB8\xD1\x81\xD1"
                   "\x8C\xD0\xBC\xD0\xBE \xD0\xBE \xD0\xB2\xD0\xB0\xD1\x88\xD0\xB5\xD0\xBC \xD0"
                   "\xB7\xD0\xB0\xD0\xBA\xD0\xB0\xD0\xB7\xD0\xB5 \xD0\xB8 \xD0\xB4\xD0\xBE\xD1"
                   "\x81\xD1\x82\xD0\xB0\xD0\xB2\xD0\xBA\xD0\xB5."},
        LegacyCase{"gb2312", "GB2312",
                   "\xE6\x82\xA8\xE5\xA5\xBD\xEF\xBC\x8C\xE8\xBF\x99\xE6\x98\xAF\xE5\x85\xB3\xE4"
                   "\xBA\x8E\xE6\x82\xA8\xE7\x9A\x84\xE8\xAE\xA2\xE5\x8D\x95\xE5\x92\x8C\xE5\x8F"
                   "\x91\xE7\xA5\xA8\xE7\x9A\x84\xE9\x80\x9A\xE7\x9F\xA5\xE3\x80\x82"}));

TEST(MailBody, DeclaredUtf8ButLatin1BytesIsDetected) {
  const std::string latin1 = encode(
      "Caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
      "e et cr\xC3\xAApes \xC3\xA0 la fran\xC3\xA7"
      "aise, d\xC3\xA9j\xC3\xA0 pr\xC3\xA9par\xC3\xA9"
      "es pour le d\xC3\xAEner de No\xC3\xABl.",
      "ISO-8859-1");
  const Extracted e = extract(simple_message("text/plain; charset=utf-8", latin1));
  EXPECT_TRUE(e.flags & kCharsetDetected);
  EXPECT_TRUE(has(e.body_text,
                  "Caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                  "e"));
  EXPECT_TRUE(is_utf8(e.body_text));
}

// Decision (charset.h): declared Latin-1 but valid multi-byte UTF-8 is read as UTF-8.
TEST(MailBody, DeclaredLatin1ButUtf8BytesIsReadAsUtf8) {
  const Extracted e =
      extract(simple_message("text/plain; charset=iso-8859-1", "na\xC3\xAFve caf\xC3\xA9\n"));
  EXPECT_EQ(e.body_text, "na\xC3\xAFve caf\xC3\xA9");
  EXPECT_TRUE(e.flags & kCharsetDetected);
}

TEST(MailBody, DeclaredAsciiWithEightBitBytesIsDetected) {
  const Extracted e = extract(simple_message("text/plain; charset=us-ascii",
                                             "Gr\xC3\xBC\xC3\x9F"
                                             "e\n"));
  EXPECT_EQ(e.body_text,
            "Gr\xC3\xBC\xC3\x9F"
            "e");
  EXPECT_TRUE(e.flags & kCharsetDetected);
}

TEST(MailBody, UnknownCharsetIsFlaggedAndDetected) {
  const Extracted e = extract(simple_message("text/plain; charset=\"x-no-such-charset\"",
                                             "r\xC3\xA9sum\xC3\xA9 attached\n"));
  EXPECT_TRUE(e.flags & kUnknownCharset);
  EXPECT_EQ(e.body_text, "r\xC3\xA9sum\xC3\xA9 attached");
}

TEST(MailBody, CharsetLabelCannotInjectIconvOptions) {
  const Extracted e =
      extract(simple_message("text/plain; charset=\"utf-8//TRANSLIT\"", "plain ascii\n"));
  EXPECT_TRUE(e.flags & kUnknownCharset);
  EXPECT_EQ(e.body_text, "plain ascii");
}

TEST(MailBody, InvalidBytesBecomeReplacementCharacters) {
  const Extracted e =
      extract(simple_message("text/plain; charset=windows-1252", "bad \x81 byte\n"));
  EXPECT_TRUE(e.flags & kInvalidUtf8);
  EXPECT_EQ(e.body_text, "bad \xEF\xBF\xBD byte");
}

TEST(MailBody, TruncatedBase64IsFlaggedAndDecodedAsFarAsPossible) {
  const std::string full = base64("The quick brown fox jumps over the lazy dog", 0);
  const Extracted e = extract(
      simple_message("text/plain", full.substr(0, 30), "Content-Transfer-Encoding: base64\n"));
  EXPECT_TRUE(e.flags & kBadBase64);
  EXPECT_TRUE(has(e.body_text, "The quick brown fox"));
}

TEST(MailBody, UnknownTransferEncodingIsFlagged) {
  const Extracted e =
      extract(simple_message("text/plain", "as is\n", "Content-Transfer-Encoding: x-rot13\n"));
  EXPECT_TRUE(e.flags & kUnknownTransferEncoding);
  EXPECT_EQ(e.body_text, "as is");
}

TEST(MailBody, WhitespaceIsCollapsed) {
  const Extracted e = extract(simple_message("text/plain", "a  \t b\n\n\n\nc\r\n  d  \n"));
  EXPECT_EQ(e.body_text, "a b\n\nc\nd");
}

TEST(MailHtml, LinkTextAndHostAreKept) {
  const Extracted e = extract(simple_message(
      "text/html",
      "<p>Please <a href=\"https://User@Login.Evil.Example:8443/verify?x=1\">click here</a> or "
      "<a href='mailto:support@Help.Example?subject=x'>write</a>.</p>\n"));
  EXPECT_EQ(e.body_text, "Please click here [login.evil.example] or write [help.example] .");
  const Extracted frame = extract(
      simple_message("text/html", "<iframe src=\"http://frame.example/ad\" width=100%></iframe>"));
  EXPECT_EQ(frame.body_text, "[frame.example]");
}

TEST(MailHtml, ScriptStyleHeadAndCommentsAreDropped) {
  const Extracted e = extract(
      simple_message("text/html",
                     "<html><head><title>TITLE</title><style>p { color: red }</style></head><body>"
                     "<script>var hidden = 1;</script><!-- COMMENT --><p>Visible</p>"
                     "<div>Block&nbsp;two &amp; more&eacute;</div>x<br>y</body></html>"));
  EXPECT_EQ(e.body_text, "Visible\nBlock two & more\xC3\xA9\nx\ny");
}

TEST(MailHtml, MetaCharsetIsUsedWhenContentTypeHasNone) {
  const std::string html =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
      "charset=koi8-r\"></head><body>" +
      encode("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "KOI8-R") + "</body></html>";
  const Extracted e = extract(simple_message("text/html", html));
  EXPECT_EQ(e.body_text, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
}

TEST(MailHtml, DeepNestingIsFlattenedAndTextKept) {
  std::string html;
  for (int i = 0; i < 20000; ++i) html += "<div><font>";
  html += "deep text";
  const Extracted e = extract(simple_message("text/html", html));
  EXPECT_TRUE(e.flags & kHtmlFlattened);
  EXPECT_EQ(e.body_text, "deep text");
}

TEST(MailHeaders, EncodedWordSubjects) {
  struct Case {
    const char* raw;
    const char* want;
  };
  const Case cases[] = {
      {"=?UTF-8?B?SGVsbG8gV8O2cmxk?=", "Hello W\xC3\xB6rld"},
      {"=?iso-8859-1?Q?Caf=E9_cr=E8me?=", "Caf\xC3\xA9 cr\xC3\xA8me"},
      // A multi-byte character split across two adjacent words; the blank between is dropped.
      {"=?utf-8?B?4pyTIGNo?= =?utf-8?B?ZWNrIOKc?=\n =?utf-8?B?kw==?=",
       "\xE2\x9C\x93 check \xE2\x9C\x93"},
      {"Re: =?utf-8?q?caf=C3=A9?= time", "Re: caf\xC3\xA9 time"},
      {"=?utf-8*en?Q?lang_tag?=", "lang tag"},
      {"=?big5?Q?need t-shirt =3F?=", "need t-shirt ?"},  // blanks inside: tolerated
      {"=?utf-8?B?SGk=?==?utf-8?B?IHRoZXJl?=", "Hi there"},
      {"plain   subject\twith  blanks", "plain subject with blanks"},
  };
  for (const Case& c : cases) {
    const Extracted e = extract(std::string("Subject: ") + c.raw + "\n\nbody\n");
    EXPECT_EQ(e.subject, c.want) << c.raw;
    EXPECT_EQ(e.flags & (kBadEncodedWord | kUnknownCharset), 0u) << c.raw;
  }
}

TEST(MailHeaders, EncodedWordInLegacyCharset) {
  const std::string koi = encode("\xD0\xA1\xD0\xBA\xD0\xB8\xD0\xB4\xD0\xBA\xD0\xB0", "KOI8-R");
  const Extracted e = extract("Subject: =?koi8-r?B?" + base64(koi, 0) + "?=\n\nx\n");
  EXPECT_EQ(e.subject, "\xD0\xA1\xD0\xBA\xD0\xB8\xD0\xB4\xD0\xBA\xD0\xB0");
}

TEST(MailHeaders, EncodedWordWithUnknownCharset) {
  const Extracted e = extract("Subject: =?x-unknown?Q?caf=C3=A9?=\n\nx\n");
  EXPECT_TRUE(e.flags & kUnknownCharset);
  EXPECT_EQ(e.subject, "caf\xC3\xA9");
}

TEST(MailHeaders, MalformedEncodedWordIsLiteral) {
  const Extracted e = extract("Subject: =?utf-8?Z?abc?= and =?utf-8?B?@@@?=\n\nx\n");
  EXPECT_TRUE(e.flags & kBadEncodedWord);
  EXPECT_TRUE(has(e.subject, "=?utf-8?Z?abc?= and"));
  EXPECT_TRUE(is_utf8(e.subject));
}

TEST(MailHeaders, FromNameAndDomain) {
  struct Case {
    const char* raw;
    const char* name;
    const char* domain;
  };
  const Case cases[] = {
      {"\"Doe, John\" <John.Doe@Mail.Example.COM>", "Doe, John", "mail.example.com"},
      {"=?utf-8?q?J=C3=B6rg?= <j@x.example.de>", "J\xC3\xB6rg", "x.example.de"},
      {"joe@example.org (Joe Bloggs)", "Joe Bloggs", "example.org"},
      {"plain@example.net", "", "example.net"},
      {"\"=?utf-8?B?5byg5LiJ?=\" <zhang@example.cn>", "\xE5\xBC\xA0\xE4\xB8\x89", "example.cn"},
      {"Broken <no-domain>", "Broken", ""},
      {"Unterminated <x@Y.example", "Unterminated", "y.example"},
  };
  for (const Case& c : cases) {
    const Extracted e = extract(std::string("From: ") + c.raw + "\nSubject: s\n\nb\n");
    EXPECT_EQ(e.from_name, c.name) << c.raw;
    EXPECT_EQ(e.from_domain, c.domain) << c.raw;
  }
}

TEST(MailHeaders, RawUtf8HeaderIsKeptAndLatin1IsConverted) {
  const Extracted utf8 = extract(
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e\n\nx\n");
  EXPECT_EQ(utf8.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e");
  EXPECT_FALSE(utf8.flags & kEightBitHeaders);
  const Extracted latin = extract(
      "Subject: Gr\xFC\xDF"
      "e\nContent-Type: text/plain; charset=iso-8859-1\n\nx\n");
  EXPECT_EQ(latin.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e");
  EXPECT_TRUE(latin.flags & kEightBitHeaders);
}

TEST(MailHeaders, NulAndEightBitGarbageInHeaders) {
  static constexpr char kRaw[] =
      "From: \"Ev\0il\xFF\xFE\" <a\0b@ex\xC0\xAF"
      "ample.com>\nSubject: hi\0there \x80\x81\xFF\n"
      "X-Junk: \0\0\0\xFF\n\x80\x81: garbage name\n"
      "Content-Type: text/plain; charset=\"\xFF\xFE\"\n\nbody \xFF text\n";
  const std::string raw(kRaw, sizeof(kRaw) - 1);  // keep the NULs
  const Extracted e = extract(raw);
  EXPECT_TRUE(e.flags & kNulInHeaders);
  EXPECT_TRUE(is_utf8(e.subject));
  EXPECT_TRUE(is_utf8(e.from_name));
  EXPECT_TRUE(is_utf8(e.from_domain));
  EXPECT_TRUE(is_utf8(e.body_text));
  EXPECT_TRUE(has(e.subject, "hi there"));
  EXPECT_TRUE(has(e.body_text, "body"));
  EXPECT_FALSE(e.flags & kInternalError);
}

TEST(MailHeaders, LongHeaderFieldIsCapped) {
  Limits limits;
  limits.max_header_bytes = 1000;
  const std::string m = "Subject: " + std::string(5 << 20, 'a') + "\n\nbody\n";
  const Extracted e = extract(m, limits);
  EXPECT_TRUE(e.flags & kHeaderTruncated);
  EXPECT_TRUE(e.flags & kInputTruncated);
  EXPECT_EQ(e.subject.size(), 1000u);
}

// The model must never read verdicts that other filters wrote into the message.
TEST(MailHeaders, UpstreamVerdictHeadersNeverReachTheModel) {
  const std::string clean_headers =
      "Received: from mx.example.org by mx.example.net; Mon, 1 Jan 2007 00:00:00 +0000\n"
      "From: \"Shop\" <deals@shop.example>\nTo: you@example.net\nSubject: Weekly deals\n"
      "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"v\"\n";
  const std::string verdicts =
      "X-Spam-Status: Yes, score=15.2 required=5.0 tests=BAYES_99,HTML_MESSAGE\n"
      "X-Spam-Flag: YES\nX-Spam-Level: ***************\nX-Spam-Score: 15.2\n"
      "X-Spam-Checker-Version: SpamAssassin 3.1.8\nX-Virus-Scanned: ClamAV, infected\n"
      "X-Virus-Status: Infected\nX-DSPAM-Result: Spam\nX-DSPAM-Confidence: 0.99\n"
      "X-Bogosity: Spam, tests=bogofilter, spamicity=1.000000\n"
      "Authentication-Results: mx.example.net; spf=fail; dkim=fail\n"
      "Received-SPF: fail (example.net: domain of shop.example does not designate)\n";
  const std::string body =
      "\n--v\nContent-Type: text/plain\n\nDeals of the week.\n--v\nContent-Type: text/html\n\n"
      "<p>Deals</p>\n--v--\n";
  const Extracted without = extract(clean_headers + body);
  const Extracted with_top = extract(verdicts + clean_headers + body);
  const Extracted with_mid = extract(clean_headers + verdicts + body);
  EXPECT_EQ(with_top.model_text(), without.model_text());
  EXPECT_EQ(with_mid.model_text(), without.model_text());
  EXPECT_EQ(with_top.flags, without.flags);
  EXPECT_FALSE(has(with_top.model_text(), "Yes"));
  EXPECT_FALSE(has(with_top.model_text(), "SpamAssassin"));
  EXPECT_EQ(without.model_text(), "Weekly deals\nShop\nshop.example\nDeals of the week.\n");
}

TEST(MailModelText, LayoutIsFixed) {
  const std::string m =
      "From: Ann <ann@Example.ORG>\nSubject:  Two   words \nContent-Type: multipart/mixed; "
      "boundary=m\n\n--m\n\nBody line\n--m\nContent-Type: application/zip; name=a.zip\n\nPK\n"
      "--m\nContent-Type: application/zip; name=\"b c.zip\"\n\nPK\n--m--\n";
  EXPECT_EQ(extract(m).model_text(), "Two words\nAnn\nexample.org\nBody line\na.zip b c.zip");
}

TEST(MailModelText, EmptyMessage) {
  for (std::string_view raw : {std::string_view(""), std::string_view("\r\n\r\n \t\n")}) {
    const Extracted e = extract(raw);
    EXPECT_TRUE(e.flags & kEmptyMessage);
    EXPECT_EQ(e.model_text(), "\n\n\n\n");
    EXPECT_EQ(e.parts, 0u);
  }
}

TEST(MailModelText, HeadersWithoutBodyHaveNoTextBody) {
  const Extracted e = extract("Subject: only a subject\n\n");
  EXPECT_TRUE(e.flags & kNoTextBody);
  EXPECT_FALSE(e.flags & kEmptyMessage);
  EXPECT_EQ(e.model_text(), "only a subject\n\n\n\n");
}

TEST(MailFlags, NamesAreStableAndDistinct) {
  EXPECT_EQ(flag_names(kInputTruncated | kHtmlOnly),
            (std::vector<std::string>{"input_truncated", "html_only"}));
  EXPECT_EQ(flag_names(0).size(), 0u);
  const std::vector<std::string> all = flag_names(~0u);
  ASSERT_EQ(all.size(), static_cast<size_t>(kFlagCount));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_FALSE(all[i].empty());
    for (size_t j = i + 1; j < all.size(); ++j) EXPECT_NE(all[i], all[j]);
  }
  EXPECT_STREQ(flag_name(11), "invalid_utf8");
  EXPECT_STREQ(flag_name(kFlagCount), "");
}

}  // namespace
}  // namespace sf::mail
