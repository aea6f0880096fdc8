// test_tokenizer.cpp: the WordPiece tokenizer (model/tokenizer.h).
//
// Golden: every case of tests/data/tokenizer/golden.tsv (made by
// scripts/gen_tokenizer_golden.py from Hugging Face's slow BertTokenizer on the
// all-MiniLM-L6-v2 vocabulary) must give exactly the reference ids; mismatches are printed
// with the input and both token sequences. Unit tests pin down the API edges on small
// hand-made vocabularies: construction errors, empty and blank input, invalid UTF-8,
// WordPiece rules, and the head + tail truncation of encode().
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/tokenizer.h"

namespace sf::tok {
namespace {

const std::string kVocabPath = std::string(SF_TEST_DATA) + "/tokenizer/vocab.txt";
const std::string kGoldenPath = std::string(SF_TEST_DATA) + "/tokenizer/golden.tsv";

const WordPiece& minilm() {
  static const WordPiece wp = WordPiece::from_vocab_file(kVocabPath);
  return wp;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    const size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) return out;
    pos = next + 1;
  }
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::istringstream in(s);
  int32_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

// Printable rendering of possibly invalid UTF-8: controls and stray bytes as \xNN.
std::string printable(const std::string& bytes) {
  std::string out;
  static const char* hex = "0123456789abcdef";
  auto esc = [&](unsigned char b) {
    out += "\\x";
    out += hex[b >> 4];
    out += hex[b & 15];
  };
  for (size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b == '\n') {
      out += "\\n";
      ++i;
    } else if (b == '\t') {
      out += "\\t";
      ++i;
    } else if (b == '\\') {
      out += "\\\\";
      ++i;
    } else if (b < 0x20 || b == 0x7F) {
      esc(b);
      ++i;
    } else if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
    } else {
      // Keep well-formed sequences of printable characters (>= U+00A0) as they are.
      size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
      bool ok = len > 0 && i + len <= bytes.size();
      for (size_t k = 1; ok && k < len; ++k) ok = (bytes[i + k] & 0xC0) == 0x80;
      if (ok && len == 2 && b == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) < 0xA0)
        ok = false;
      if (ok) {
        out.append(bytes, i, len);
        i += len;
      } else {
        esc(b);
        ++i;
      }
    }
  }
  return out;
}

std::string render(const WordPiece& wp, const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += " ";
    if (ids[i] >= 0 && static_cast<size_t>(ids[i]) < wp.vocab_size()) {
      out += printable(wp.token(ids[i]));
    } else {
      out += "<" + std::to_string(ids[i]) + ">";
    }
  }
  return out + "]";
}

std::string diff_report(const WordPiece& wp, const std::string& line_no, const std::string& tag,
                        const std::string& input, const std::vector<int32_t>& want,
                        const std::vector<int32_t>& got) {
  size_t first = 0;
  while (first < want.size() && first < got.size() && want[first] == got[first]) ++first;
  std::ostringstream os;
  os << "line " << line_no << " [" << tag << "] input: \"" << printable(input) << "\"\n"
     << "    expected (" << want.size() << "): " << render(wp, want) << "\n"
     << "    got      (" << got.size() << "): " << render(wp, got) << "\n"
     << "    first difference at piece " << first << "\n";
  return os.str();
}

Options options_from(const std::string& digits) {
  if (digits.size() != 3) throw std::runtime_error("bad options field " + digits);
  Options o;
  o.lowercase = digits[0] == '1';
  o.strip_accents = digits[1] == '1';
  o.tokenize_chinese_chars = digits[2] == '1';
  return o;
}

TEST(TokenizerGolden, MatchesPythonReference) {
  std::ifstream in(kGoldenPath, std::ios::binary);
  ASSERT_TRUE(in) << "cannot open " << kGoldenPath;
  std::map<std::string, std::unique_ptr<WordPiece>> by_opts;
  auto tokenizer_for = [&](const std::string& digits) -> const WordPiece& {
    auto& slot = by_opts[digits];
    if (!slot)
      slot =
          std::make_unique<WordPiece>(WordPiece::from_vocab_file(kVocabPath, options_from(digits)));
    return *slot;
  };

  size_t tokenize_cases = 0, default_cases = 0, encode_cases = 0, passed = 0;
  std::vector<std::string> failures;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    std::vector<int32_t> want, got;
    std::string input, tag = f.size() > 1 ? f[1] : "";
    const WordPiece* wp = &minilm();
    if (f[0] == "T" && f.size() == 5) {
      ++tokenize_cases;
      if (f[2] == "111") ++default_cases;
      wp = &tokenizer_for(f[2]);
      input = from_hex(f[3]);
      want = parse_ids(f[4]);
      got = wp->tokenize(input);
    } else if (f[0] == "E" && f.size() == 7) {
      ++encode_cases;
      Truncation t;
      t.max_tokens = std::stoul(f[2]);
      t.tail_tokens = std::stoul(f[3]);
      input = from_hex(f[4]);
      const bool want_truncated = f[5] == "1";
      want = parse_ids(f[6]);
      bool truncated = !want_truncated;
      got = wp->encode(input, t, &truncated);
      if (truncated != want_truncated) {
        failures.push_back("line " + std::to_string(line_no) + ": truncated flag is " +
                           (truncated ? "true" : "false") + "\n");
        continue;
      }
    } else {
      FAIL() << "malformed golden line " << line_no << ": " << line.substr(0, 80);
    }
    if (got == want) {
      ++passed;
    } else {
      failures.push_back(diff_report(*wp, std::to_string(line_no), tag, input, want, got));
    }
  }
  const size_t total = tokenize_cases + encode_cases;
  std::printf(
      "tokenizer golden: %zu/%zu cases passed (%zu tokenize, %zu of them default "
      "options; %zu encode)\n",
      passed, total, tokenize_cases, default_cases, encode_cases);
  for (size_t i = 0; i < failures.size() && i < 10; ++i) std::printf("%s", failures[i].c_str());
  // The file must hold the cases it promises, so that a truncated file cannot pass.
  EXPECT_GE(default_cases, 2500u);
  EXPECT_GE(encode_cases, 50u);
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " golden mismatches (first ones above)";
}

// ------------------------------------------------------------------------------------------
// Small vocabularies for the API edges.

std::vector<std::string> base_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a",
          "##a",   "b",     "##b",   ",",     "!",      "i",  "cafe",  "x",      "##y"};
}

int32_t id_of(const WordPiece& wp, std::string_view text) {
  const int32_t id = wp.find(text);
  EXPECT_GE(id, 0) << "no token " << text;
  return id;
}

TEST(TokenizerApi, MissingSpecialTokenThrows) {
  for (const char* missing : {"[UNK]", "[CLS]", "[SEP]", "[PAD]"}) {
    auto v = base_vocab();
    std::erase(v, std::string(missing));
    EXPECT_THROW(WordPiece{v}, std::invalid_argument) << "without " << missing;
  }
  EXPECT_NO_THROW(WordPiece{base_vocab()});
  auto no_mask = base_vocab();
  std::erase(no_mask, std::string("[MASK]"));
  EXPECT_NO_THROW(WordPiece{no_mask});  // [MASK] is not needed for tokenizing
}

TEST(TokenizerApi, InvalidUtf8TokenThrows) {
  auto v = base_vocab();
  v.push_back("bad\xC3");
  EXPECT_THROW(WordPiece{v}, std::invalid_argument);
}

TEST(TokenizerApi, MissingVocabFileThrows) {
  EXPECT_THROW(WordPiece::from_vocab_file("/nonexistent/vocab.txt"), std::runtime_error);
}

TEST(TokenizerApi, VocabFileLineEndings) {
  const auto dir = std::filesystem::path(SF_BINARY_DIR) / "test_tokenizer_tmp";
  std::filesystem::create_directories(dir);
  const auto v = base_vocab();
  std::string lf, crlf;
  for (const auto& t : v) {
    lf += t + "\n";
    crlf += t + "\r\n";
  }
  std::ofstream(dir / "lf.txt", std::ios::binary) << lf;
  std::ofstream(dir / "crlf.txt", std::ios::binary) << crlf;
  std::ofstream(dir / "nofinal.txt", std::ios::binary) << lf.substr(0, lf.size() - 1);
  for (const char* name : {"lf.txt", "crlf.txt", "nofinal.txt"}) {
    const auto wp = WordPiece::from_vocab_file((dir / name).string());
    ASSERT_EQ(wp.vocab_size(), v.size()) << name;
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(wp.token(static_cast<int32_t>(i)), v[i]);
  }
  const auto& real = minilm();
  EXPECT_EQ(real.vocab_size(), 30522u);
  EXPECT_EQ(real.pad_id(), 0);
  EXPECT_EQ(real.unk_id(), 100);
  EXPECT_EQ(real.cls_id(), 101);
  EXPECT_EQ(real.sep_id(), 102);
}

TEST(TokenizerApi, TokenAndFind) {
  const WordPiece wp(base_vocab());
  EXPECT_EQ(wp.token(5), "un");
  EXPECT_EQ(wp.find("##aff"), 6);
  EXPECT_EQ(wp.find("aff"), -1);
  EXPECT_EQ(wp.find(""), -1);
  EXPECT_THROW(wp.token(-1), std::out_of_range);
  EXPECT_THROW(wp.token(static_cast<int32_t>(wp.vocab_size())), std::out_of_range);
  auto dup = base_vocab();
  dup.push_back("un");  // a later duplicate wins, as in Python's dict
  const WordPiece wd(dup);
  EXPECT_EQ(wd.find("un"), static_cast<int32_t>(dup.size() - 1));
}

TEST(TokenizerApi, EmptyAndBlankInput) {
  const auto& wp = minilm();
  EXPECT_TRUE(wp.tokenize("").empty());
  EXPECT_TRUE(wp.tokenize(" ").empty());
  EXPECT_TRUE(wp.tokenize(" \t\r\n \xC2\xA0\xE3\x80\x80\xE2\x80\xA8").empty());  // NBSP, U+3000, LS
  EXPECT_TRUE(wp.tokenize(std::string("\0\x01\x7F\xEF\xBF\xBD\xE2\x80\x8B", 9)).empty());
  EXPECT_TRUE(wp.tokenize("\xFF\xFE\xC0\x80").empty());  // only invalid bytes
  bool truncated = true;
  EXPECT_EQ(wp.encode("", {}, &truncated), (std::vector<int32_t>{101, 102}));
  EXPECT_FALSE(truncated);
  EXPECT_EQ(wp.encode("  \n"), (std::vector<int32_t>{101, 102}));
}

TEST(TokenizerApi, WordPieceRules) {
  const WordPiece wp(base_vocab());
  EXPECT_EQ(wp.tokenize("unaffable"), (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(wp.tokenize("UnAffable!"), (std::vector<int32_t>{5, 6, 7, 13}));
  // A word that cannot be covered is one [UNK], not pieces plus [UNK].
  EXPECT_EQ(wp.tokenize("unaffz"), (std::vector<int32_t>{wp.unk_id()}));
  EXPECT_EQ(wp.tokenize("xy xyy"), (std::vector<int32_t>{16, 17, 16, 17, 17}));
  // 100 characters are fine, 101 make one [UNK] (characters are code points after NFD and
  // mark stripping, so 101 'á' also count 101).
  EXPECT_EQ(wp.tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_EQ(wp.tokenize(std::string(101, 'a')), (std::vector<int32_t>{wp.unk_id()}));
  std::string acc;
  for (int i = 0; i < 100; ++i) acc += "\xC3\xA1";  // U+00E1
  EXPECT_EQ(wp.tokenize(acc).size(), 100u);
  EXPECT_EQ(wp.tokenize(acc + "\xC3\xA1"), (std::vector<int32_t>{wp.unk_id()}));
  Options small;
  small.max_input_chars_per_word = 3;
  const WordPiece ws(base_vocab(), small);
  EXPECT_EQ(ws.tokenize("aaa aaaa"), (std::vector<int32_t>{8, 9, 9, ws.unk_id()}));
  // Accents are stripped after lower-casing; punctuation splits words.
  EXPECT_EQ(wp.tokenize("CAF\xC3\x89,I\xCC\x81"), (std::vector<int32_t>{15, 12, 14}));
}

TEST(TokenizerApi, InvalidUtf8BytesVanishWithoutSplitting) {
  const WordPiece wp(base_vocab());
  const auto joined = wp.tokenize("unaffable");
  for (const char* bad : {"\xFF", "\x80", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC0\xAF",
                          "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xEF\xBF\xBD"}) {
    EXPECT_EQ(wp.tokenize(std::string("unaff") + bad + "able"), joined) << printable(bad);
  }
  // An overlong encoding of '!' is not '!'.
  EXPECT_EQ(wp.tokenize("a\xC0\xA1"
                        "b"),
            wp.tokenize("ab"));
  // A truncated sequence does not swallow the valid character after it.
  EXPECT_EQ(wp.tokenize("a\xE2\x82!"), (std::vector<int32_t>{8, 13}));
}

TEST(TokenizerApi, SpecialTokenTextIsPlainText) {
  const auto& wp = minilm();
  const auto ids = wp.tokenize("[CLS] hello [SEP] [UNK] [PAD] [MASK]");
  for (const int32_t id : ids) {
    EXPECT_NE(id, wp.cls_id());
    EXPECT_NE(id, wp.sep_id());
    EXPECT_NE(id, wp.pad_id());
    EXPECT_NE(id, wp.unk_id());
  }
  EXPECT_EQ(ids.front(), wp.find("["));
}

// A vocabulary where word k of the text "w0 w1 w2 ..." is the single piece ids[k].
struct Numbered {
  WordPiece wp;
  std::vector<int32_t> ids;
  static Numbered make(size_t words) {
    auto v = base_vocab();
    std::vector<int32_t> ids;
    for (size_t k = 0; k < words; ++k) {
      ids.push_back(static_cast<int32_t>(v.size()));
      v.push_back("w" + std::to_string(k));
    }
    return Numbered{WordPiece(v), ids};
  }
  std::string text(size_t n) const {
    std::string s;
    for (size_t k = 0; k < n; ++k) s += "w" + std::to_string(k) + " ";
    return s;
  }
};

TEST(TokenizerApi, TruncationExactLengths) {
  const auto nb = Numbered::make(300);
  Truncation t;
  t.max_tokens = 16;
  t.tail_tokens = 4;
  for (size_t n : {0u, 1u, 13u, 14u, 15u, 16u, 40u, 299u}) {
    bool truncated = false;
    const auto got = nb.wp.encode(nb.text(n), t, &truncated);
    std::vector<int32_t> want{nb.wp.cls_id()};
    if (n <= 14) {
      want.insert(want.end(), nb.ids.begin(), nb.ids.begin() + static_cast<long>(n));
    } else {
      want.insert(want.end(), nb.ids.begin(), nb.ids.begin() + 10);  // head = 16 - 2 - 4
      want.insert(want.end(), nb.ids.begin() + static_cast<long>(n) - 4,
                  nb.ids.begin() + static_cast<long>(n));
    }
    want.push_back(nb.wp.sep_id());
    EXPECT_EQ(got, want) << "n=" << n;
    EXPECT_EQ(got.size(), std::min<size_t>(n, 14) + 2) << "n=" << n;
    EXPECT_EQ(truncated, n > 14) << "n=" << n;
  }
  // tail 0 keeps only the head; tail max-2 keeps only the tail.
  t.tail_tokens = 0;
  auto got = nb.wp.encode(nb.text(20), t);
  EXPECT_EQ(got[14], nb.ids[13]);
  t.tail_tokens = 14;
  got = nb.wp.encode(nb.text(20), t);
  EXPECT_EQ(got[1], nb.ids[6]);
  EXPECT_EQ(got[14], nb.ids[19]);
  // The minimum: [CLS] [SEP] alone.
  t.max_tokens = 2;
  t.tail_tokens = 0;
  bool truncated = false;
  EXPECT_EQ(nb.wp.encode("w1", t, &truncated),
            (std::vector<int32_t>{nb.wp.cls_id(), nb.wp.sep_id()}));
  EXPECT_TRUE(truncated);
}

TEST(TokenizerApi, TruncationArgumentsChecked) {
  const auto& wp = minilm();
  EXPECT_THROW(wp.encode("x", Truncation{1, 0}), std::invalid_argument);
  EXPECT_THROW(wp.encode("x", Truncation{16, 15}), std::invalid_argument);
  EXPECT_NO_THROW(wp.encode("x", Truncation{16, 14}));
}

// encode() of long texts tokenizes only a head and a tail slice; the result must equal the
// head + tail cut of the full tokenization.
TEST(TokenizerApi, LongTextEncodeEqualsFullTokenization) {
  const auto& wp = minilm();
  std::mt19937 rng(7);
  const std::vector<std::string> words = {"hello",
                                          "World",
                                          "caf\xC3\xA9",
                                          "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3",
                                          "\xE4\xB8\xAD\xE6\x96\x87",
                                          "http://example.com/x?y=1",
                                          "!!!",
                                          "\xF0\x9F\x98\x80",
                                          "\xFF",
                                          "unbelievable",
                                          "\xE2\x80\xA8",
                                          "a\tb",
                                          "\n",
                                          std::string(150, 'q')};
  for (size_t size : {100u, 20000u, 70000u, 400000u}) {
    std::string text;
    while (text.size() < size) {
      text += words[rng() % words.size()];
      text += (rng() % 7 == 0) ? "" : " ";
    }
    const auto full = wp.tokenize(text);
    for (auto [max_tokens, tail] :
         {std::pair<size_t, size_t>{256, 64}, {32, 8}, {16, 0}, {16, 14}, {512, 500}}) {
      std::vector<int32_t> want{wp.cls_id()};
      const size_t budget = max_tokens - 2;
      if (full.size() <= budget) {
        want.insert(want.end(), full.begin(), full.end());
      } else {
        want.insert(want.end(), full.begin(), full.begin() + static_cast<long>(budget - tail));
        want.insert(want.end(), full.end() - static_cast<long>(tail), full.end());
      }
      want.push_back(wp.sep_id());
      bool truncated = false;
      EXPECT_EQ(wp.encode(text, Truncation{max_tokens, tail}, &truncated), want)
          << "size " << size << " max " << max_tokens << " tail " << tail;
      EXPECT_EQ(truncated, full.size() > budget);
    }
  }
  // A long text without any whitespace in its tail part.
  std::string blob = "start here ";
  for (int i = 0; i < 50000; ++i) blob += "ab,";
  const auto full = wp.tokenize(blob);
  const auto got = wp.encode(blob, Truncation{32, 8});
  ASSERT_EQ(got.size(), 32u);
  EXPECT_TRUE(std::equal(got.end() - 9, got.end() - 1, full.end() - 8));
}

TEST(TokenizerApi, OptionsChangeBehaviour) {
  Options cased;
  cased.lowercase = false;
  cased.strip_accents = false;
  const WordPiece wc(base_vocab(), cased);
  EXPECT_EQ(wc.tokenize("Cafe"), (std::vector<int32_t>{wc.unk_id()}));
  EXPECT_EQ(wc.tokenize("cafe"), (std::vector<int32_t>{15}));
  const WordPiece wl(base_vocab());
  EXPECT_EQ(wl.tokenize("Cafe"), (std::vector<int32_t>{15}));
  // CJK ideographs are words of their own unless tokenize_chinese_chars is off.
  auto v = base_vocab();
  v.push_back("\xE4\xB8\xAD");    // 中
  v.push_back("##\xE6\x96\x87");  // ##文
  v.push_back("\xE6\x96\x87");    // 文
  Options no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  const WordPiece w1(v), w2(v, no_cjk);
  const int32_t zhong = id_of(w1, "\xE4\xB8\xAD"), wen = id_of(w1, "\xE6\x96\x87"),
                cont_wen = id_of(w1, "##\xE6\x96\x87");
  EXPECT_EQ(w1.tokenize("\xE4\xB8\xAD\xE6\x96\x87"), (std::vector<int32_t>{zhong, wen}));
  EXPECT_EQ(w2.tokenize("\xE4\xB8\xAD\xE6\x96\x87"), (std::vector<int32_t>{zhong, cont_wen}));
}

}  // namespace
}  // namespace sf::tok
