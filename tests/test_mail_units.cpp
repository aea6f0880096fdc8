// The pieces under mail extraction: charsets (model/charset.h), transfer decodings
// (model/mail_codec.h), header fields (model/mail_header.h), HTML (model/html_text.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "model/charset.h"
#include "model/html_text.h"
#include "model/mail_codec.h"
#include "model/mail_flags.h"
#include "model/mail_header.h"
#include "model/mail_text.h"
#include "tests/test_mail_util.h"

namespace sf::mail {
namespace {

TEST(MailCharset, CanonicalNames) {
  EXPECT_EQ(charset_canonical("\"ISO-8859-1\""), "WINDOWS-1252");
  EXPECT_EQ(charset_canonical("us-ascii (Plain Text)"), "ASCII");
  EXPECT_EQ(charset_canonical("Shift_JIS"), "CP932");
  EXPECT_EQ(charset_canonical("gb2312"), "GB18030");
  EXPECT_EQ(charset_canonical("ks_c_5601-1987"), "CP949");
  EXPECT_EQ(charset_canonical("utf-8*en"), "UTF-8");
  EXPECT_EQ(charset_canonical("cp1251"), "WINDOWS-1251");
  EXPECT_EQ(charset_canonical("x-mac-cyrillic"), "MAC-CYRILLIC");
  EXPECT_EQ(charset_canonical(""), "");
  EXPECT_EQ(charset_canonical("utf-8//IGNORE"), "?");
  EXPECT_EQ(charset_canonical(std::string(100, 'a')), "?");
}

TEST(MailCharset, Utf8ValidityAndSanitising) {
  EXPECT_TRUE(utf8_valid("plain \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8_valid("\xC0\xAF"));          // overlong
  EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(utf8_valid("\xE2\x82"));          // truncated
  std::string out;
  EXPECT_EQ(utf8_append_sanitized(out,
                                  "a\xFF"
                                  "b\xE2\x82"
                                  "c"),
            2u);
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c");
  EXPECT_EQ(utf8_cut("a\xE2\x82\xAC", 3), 1u);
  EXPECT_EQ(utf8_cut("a\xE2\x82\xAC", 4), 4u);
}

TEST(MailCharset, ConversionFlagsAndCap) {
  uint32_t flags = 0;
  EXPECT_EQ(to_utf8("caf\xE9", "iso-8859-1", flags), "caf\xC3\xA9");
  EXPECT_EQ(flags, 0u);
  EXPECT_EQ(to_utf8("\xE2\x80\x9Cq\xE2\x80\x9D", "windows-1252", flags),
            "\xE2\x80\x9Cq\xE2\x80\x9D");  // valid UTF-8 wins over a single-byte label
  EXPECT_EQ(flags, static_cast<uint32_t>(kCharsetDetected));
  flags = 0;
  EXPECT_EQ(to_utf8("\xEF\xBB\xBFwith bom", "utf-8", flags), "with bom");
  bool truncated = false;
  const std::string cut =
      to_utf8("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", "utf-8", flags, 7, &truncated);
  EXPECT_EQ(cut, "\xE2\x82\xAC\xE2\x82\xAC");
  EXPECT_TRUE(truncated);
  flags = 0;
  const std::string utf16 = std::string("h\0i\0", 4);
  EXPECT_EQ(to_utf8(utf16, "utf-16le", flags), "hi");
  EXPECT_EQ(flags, 0u);
  // glibc turns UCS-4 values above U+10FFFF into 5-byte "UTF-8"; the output must stay valid.
  flags = 0;
  for (const char* charset : {"ucs-4", "ucs-4le", "utf-32"}) {
    const std::string out =
        to_utf8(std::string("\x00\xD8\x00\x00\x00\x00\x00\x7F", 8), charset, flags);
    EXPECT_TRUE(test::is_utf8(out)) << charset;
  }
  const std::string jis = test::encode("\xE6\x97\xA5\xE6\x9C\xAC", "ISO-2022-JP");
  EXPECT_EQ(to_utf8(jis, "iso-2022-jp", flags), "\xE6\x97\xA5\xE6\x9C\xAC");
}

TEST(MailCodec, Base64) {
  bool bad = false;
  EXPECT_EQ(base64_decode("SGVs\r\nbG8=", bad), "Hello");
  EXPECT_FALSE(bad);
  EXPECT_EQ(base64_decode("QQ==QQ==", bad), "AA");  // concatenated blobs are fine
  EXPECT_FALSE(bad);
  EXPECT_EQ(base64_decode("SGVsbG8", bad), "Hello");  // missing padding
  EXPECT_TRUE(bad);
  bad = false;
  EXPECT_EQ(base64_decode("SG!Vs", bad), "Hel");
  EXPECT_TRUE(bad);
}

TEST(MailCodec, QuotedPrintable) {
  bool bad = false;
  EXPECT_EQ(quoted_printable_decode("a=3Db =\r\nc  \r\nd=e9\n", bad), "a=b c\nd\xE9\n");
  EXPECT_FALSE(bad);
  // Trailing blanks before an LF line break: the break is kept (mimetic 0.9.8 loses it).
  EXPECT_EQ(quoted_printable_decode("hello \nworld", bad), "hello\nworld");
  EXPECT_EQ(quoted_printable_decode("x=G1 y=", bad), "x=G1 y");
  EXPECT_TRUE(bad);
  bad = false;
  EXPECT_EQ(q_decode("caf=E9_au=5Flait", bad), "caf\xE9 au_lait");
  EXPECT_FALSE(bad);
}

TEST(MailHeaderParse, KeepsOnlyTheFieldsItNeeds) {
  uint32_t flags = 0;
  const std::string raw =
      "X-Spam-Status: Yes\nSubject: first\n  folded\nSubject: second\nFrom: a@b.example\n"
      "content-TYPE : text/plain\nAuthentication-Results: spf=fail\n\nbody\n";
  const EntityHeader h = header_parse(raw, 1000, false, flags);
  EXPECT_EQ(h.subject, "first  folded");
  EXPECT_EQ(h.from, "a@b.example");
  EXPECT_EQ(h.content_type, "text/plain");
  EXPECT_EQ(raw.substr(h.body_offset), "body\n");
  EXPECT_EQ(flags, 0u);
}

TEST(MailHeaderParse, ParametersAndRfc2231) {
  const FieldValue ct = field_parse(
      "Text/Plain (comment); charset = \"utf-8\" ; name*0*=iso-8859-1''caf%E9;"
      " name*1=\" menu.txt\"; format=flowed (x)");
  EXPECT_EQ(ct.value, "text/plain");
  EXPECT_EQ(field_param_raw(ct, "charset"), "utf-8");
  EXPECT_EQ(field_param_raw(ct, "format"), "flowed");
  uint32_t flags = 0;
  EXPECT_EQ(field_param_text(ct, "name", "", flags), "caf\xC3\xA9 menu.txt");
  const FieldValue cd = field_parse("attachment; filename=\"a \\\"quoted\\\" name.txt\"");
  EXPECT_EQ(field_param_text(cd, "filename", "", flags), "a \"quoted\" name.txt");
  EXPECT_EQ(flags, 0u);
}

TEST(MailHtmlUnits, UrlHost) {
  EXPECT_EQ(url_host("http://www.Example.com/path"), "www.example.com");
  EXPECT_EQ(url_host("  HTTPS://user:pw@Host.Example:8080?q"), "host.example");
  EXPECT_EQ(url_host("//cdn.example/x.js"), "cdn.example");
  EXPECT_EQ(url_host("http://%65vil.example/"), "evil.example");
  EXPECT_EQ(url_host("http:\\\\back.example\\x"), "back.example");
  EXPECT_EQ(url_host("mailto:Sales@Shop.Example?subject=hi"), "shop.example");
  EXPECT_EQ(url_host("http://[2001:db8::1]:80/"), "[2001:db8::1]");
  EXPECT_EQ(url_host("javascript:alert(1)"), "");
  EXPECT_EQ(url_host("relative/path.html"), "");
  EXPECT_EQ(url_host("#anchor"), "");
  EXPECT_EQ(url_host("http://bad host/"), "");
}

TEST(MailHtmlUnits, MetaCharset) {
  EXPECT_EQ(html_meta_charset("<meta charset=\"Shift_JIS\">"), "shift_jis");
  EXPECT_EQ(html_meta_charset("<meta http-equiv=Content-Type content='text/html; charset=koi8-r'>"),
            "koi8-r");
  EXPECT_EQ(html_meta_charset("<p>no declaration</p>"), "");
}

TEST(MailHtmlUnits, RendersBlocksCellsImagesAndCap) {
  uint32_t flags = 0;
  EXPECT_EQ(html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
                         "<img src=x alt=\"Buy now\"><ul><li>one<li>two</ul>",
                         1000, flags),
            "a b\nc\nBuy now\none\ntwo");
  bool truncated = false;
  EXPECT_EQ(html_to_text("<p>abcdef</p>", 3, flags, &truncated), "abc");
  EXPECT_TRUE(truncated);
  EXPECT_EQ(flags, 0u);
}

// Tag soup that makes gumbo's tree builder nest thousands deep (quadratic time) must be
// flattened before parsing, whatever mix of tags does it; the text stays.
TEST(MailHtmlUnits, HostileNestingIsFlattened) {
  const std::vector<std::vector<std::string>> mixes = {{"div"},
                                                       {"b"},
                                                       {"font", "i"},
                                                       {"noscript", "h1", "optgroup"},
                                                       {"colgroup", "figcaption"},
                                                       {"ol", "rp"},
                                                       {"select", "fieldset"},
                                                       {"code", "ul", "tbody"},
                                                       {"table", "td"},
                                                       {"a", "div"},
                                                       {"li", "ul"},
                                                       {"p", "button"}};
  for (const auto& mix : mixes) {
    std::mt19937 rng(5);
    std::string html;
    while (html.size() < (200u << 10)) {
      const std::string& t = mix[rng() % mix.size()];
      const unsigned r = rng() % 10;
      html += r < 6 ? "<" + t + ">" : r < 8 ? "</" + t + ">" : "w ";
    }
    uint32_t flags = 0;
    const std::string text = html_to_text(html, 1 << 20, flags);
    EXPECT_TRUE(flags & kHtmlFlattened) << mix[0];
    const auto words_in = std::count(html.begin(), html.end(), 'w');
    const auto words_out = std::count(text.begin(), text.end(), 'w');
    EXPECT_EQ(words_out, words_in) << mix[0];
  }
  uint32_t flags = 0;
  std::string benign;  // properly closed, moderately nested: never flattened
  for (int i = 0; i < 2000; ++i) {
    benign += "<table><tr><td><div><p><b><a href=x>w</a></b></p></div></td></tr></table>";
  }
  html_to_text(benign, 1 << 20, flags);
  EXPECT_EQ(flags, 0u);
}

TEST(MailText, Normalize) {
  EXPECT_EQ(text_normalize("  a\t\tb\xC2\xA0"
                           "c \r\n\r\n\r\n d\x01"
                           "e  ",
                           true),
            "a b c\n\nd e");
  EXPECT_EQ(text_normalize("a\r\nb\n\nc", false), "a b c");
}

}  // namespace
}  // namespace sf::mail
