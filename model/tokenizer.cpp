// tokenizer.cpp: see tokenizer.h. The pipeline, one pass over the bytes:
//   decode + clean + CJK split  ->  raw word (code points between word breaks)
//   raw word -> lower / NFD / strip marks -> split punctuation -> pieces -> WordPiece.
// Words made only of ASCII take a table-driven path with no Unicode lookups.
#include "model/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "model/tokenizer_trie.h"
#include "model/tokenizer_unicode.h"

namespace sf::tok {
namespace {

enum AsciiClass : uint8_t { kKeep = 0, kSpace = 1, kDrop = 2 };

// Input classes of ASCII bytes: \t \n \r and space break words; the other C0 controls
// and DEL are dropped (category Cc); everything else is kept.
constexpr std::array<uint8_t, 128> make_ascii_input() {
  std::array<uint8_t, 128> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kDrop;
  t[0x7F] = kDrop;
  t['\t'] = t['\n'] = t['\r'] = t[' '] = kSpace;
  return t;
}
constexpr auto kAsciiInput = make_ascii_input();

// BERT treats every non-alphanumeric printable ASCII character as punctuation.
constexpr bool ascii_punct_slow(unsigned c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

constexpr std::array<bool, 128> make_ascii_punct() {
  std::array<bool, 128> t{};
  for (unsigned c = 0; c < 128; ++c) t[c] = ascii_punct_slow(c);
  return t;
}
constexpr auto kAsciiPunct = make_ascii_punct();
inline bool ascii_punct(unsigned c) { return kAsciiPunct[c]; }

constexpr char ascii_lower(unsigned c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

// encode() first looks for the tail pieces in this many bytes per piece from the end
// (ordinary text has about 4), then in 4x, 16x... as many.
constexpr size_t kTailBytesPerToken = 16;

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
    } else if (uni::decode_multibyte(p, end) == uni::kInvalid) {
      return false;
    }
  }
  return true;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

struct WordPiece::Scratch {
  std::u32string raw;     // cleaned code points of the current whitespace-separated word
  bool raw_ascii = true;  // raw holds only ASCII
  std::u32string norm;    // raw after lower-casing, NFD and mark stripping
  std::u32string low;     // workspace: lower-cased raw (non-default options)
  std::vector<int32_t> nfc_tmp;
  std::vector<unsigned char> bytes;  // raw as bytes, when it is all ASCII
  std::string piece;                 // UTF-8 of the current punctuation-free piece
  size_t piece_chars = 0;            // its length in code points
};

WordPiece::WordPiece(std::vector<std::string> vocab, Options opts)
    : vocab_(std::move(vocab)), opts_(opts) {
  if (vocab_.size() > static_cast<size_t>(INT32_MAX))
    throw std::invalid_argument("vocabulary has more than 2^31 tokens");
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (!valid_utf8(vocab_[i]))
      throw std::invalid_argument("vocabulary token " + std::to_string(i) + " is not valid UTF-8");
  }
  trie_ = std::make_unique<PieceTrie>(vocab_);
  auto special = [this](const char* text) {
    const int32_t id = trie_->find(text);
    if (id < 0) throw std::invalid_argument(std::string("vocabulary has no ") + text + " token");
    return id;
  };
  unk_ = special("[UNK]");
  cls_ = special("[CLS]");
  sep_ = special("[SEP]");
  pad_ = special("[PAD]");
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    ascii_id_[c] = opts_.max_input_chars_per_word >= 1 ? trie_->find(std::string_view(&ch, 1)) : -1;
    if (ascii_id_[c] < 0) ascii_id_[c] = unk_;
  }
}

WordPiece::WordPiece(WordPiece&&) noexcept = default;
WordPiece& WordPiece::operator=(WordPiece&&) noexcept = default;
WordPiece::~WordPiece() = default;

WordPiece WordPiece::from_vocab_file(const std::string& path, Options opts) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open vocabulary file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read vocabulary file " + path);
  const std::string text = std::move(buf).str();
  std::vector<std::string> vocab;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    size_t stop = nl;
    if (stop > pos && text[stop - 1] == '\r') --stop;
    vocab.emplace_back(text, pos, stop - pos);
    pos = nl + 1;
  }
  return WordPiece(std::move(vocab), opts);
}

const std::string& WordPiece::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size())
    throw std::out_of_range("token id " + std::to_string(id) + " outside the vocabulary");
  return vocab_[static_cast<size_t>(id)];
}

int32_t WordPiece::find(std::string_view token_text) const { return trie_->find(token_text); }

// Greedy longest-match-first over one piece (a word without punctuation); the whole piece
// becomes one [UNK] when it is too long or some remainder has no matching continuation.
void WordPiece::wordpiece(std::string_view piece, size_t chars, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (chars > opts_.max_input_chars_per_word) {
    out.push_back(unk_);
    return;
  }
  const size_t mark = out.size();
  bool continuation = false;
  while (!piece.empty()) {
    size_t len = 0;
    const int32_t id = trie_->longest_prefix(piece, continuation, &len);
    if (id < 0) {
      out.resize(mark);
      out.push_back(unk_);
      return;
    }
    out.push_back(id);
    piece.remove_prefix(len);
    continuation = true;
  }
}

void WordPiece::flush_word(Scratch& s, std::vector<int32_t>& out) const {
  wordpiece(s.piece, s.piece_chars, out);
  s.piece.clear();
  s.piece_chars = 0;
}

// A word of printable ASCII bytes (no whitespace, no controls) straight from the input:
// pieces without upper-case letters are looked up in place.
void WordPiece::process_ascii(Scratch& s, const unsigned char* b, const unsigned char* e,
                              std::vector<int32_t>& out) const {
  while (b < e) {
    if (ascii_punct(*b)) {
      out.push_back(ascii_id_[*b]);
      ++b;
      continue;
    }
    const unsigned char* q = b;
    bool upper = false;
    while (q < e && !ascii_punct(*q)) {
      upper |= *q >= 'A' && *q <= 'Z';
      ++q;
    }
    const auto n = static_cast<size_t>(q - b);
    if (upper && opts_.lowercase) {
      s.piece.resize(n);
      for (size_t i = 0; i < n; ++i) s.piece[i] = ascii_lower(b[i]);
      wordpiece(s.piece, n, out);
      s.piece.clear();
    } else {
      wordpiece(std::string_view(reinterpret_cast<const char*>(b), n), n, out);
    }
    b = q;
  }
}

void WordPiece::process_unicode_word(Scratch& s, std::vector<int32_t>& out) const {
  // The reference applies NFC to the text before lower-casing. With strip_accents on, the
  // NFD that follows makes that step invisible (NFD(lower(NFC(x))) == NFD(lower(x)) for
  // every code point), so it is only done when accents are kept.
  if (!opts_.strip_accents) uni::nfc_in_place(s.raw, s.nfc_tmp);
  const std::u32string* src = &s.raw;
  if (opts_.lowercase) {
    s.low.clear();
    const char32_t* w = s.raw.data();
    const size_t n = s.raw.size();
    for (size_t i = 0; i < n; ++i) {
      if (w[i] < 0x80) {
        s.low.push_back(static_cast<char32_t>(ascii_lower(static_cast<unsigned>(w[i]))));
      } else {
        char32_t l[2];
        const size_t k = uni::lower_at(w, n, i, l);
        s.low.append(l, k);
      }
    }
    src = &s.low;
  }
  if (opts_.strip_accents) {
    s.norm.clear();
    for (const char32_t cp : *src) {
      if (cp < 0x80) {
        s.norm.push_back(cp);
      } else {
        uni::append_nfd(s.norm, cp);
      }
    }
    uni::canonical_order(s.norm.data(), s.norm.size());
    src = &s.norm;
  }
  for (const char32_t cp : *src) {
    if (cp < 0x80) {
      if (ascii_punct(static_cast<unsigned>(cp))) {
        flush_word(s, out);
        out.push_back(ascii_id_[cp]);
        continue;
      }
    } else {
      if (opts_.strip_accents && uni::is_nonspacing_mark(cp)) continue;
      if (uni::is_punctuation(cp)) {
        flush_word(s, out);
        uni::append_utf8(s.piece, cp);
        s.piece_chars = 1;
        flush_word(s, out);
        continue;
      }
    }
    uni::append_utf8(s.piece, cp);
    ++s.piece_chars;
  }
  flush_word(s, out);
}

void WordPiece::flush_raw(Scratch& s, std::vector<int32_t>& out) const {
  if (s.raw.empty()) return;
  if (s.raw_ascii) {
    s.bytes.assign(s.raw.begin(), s.raw.end());
    process_ascii(s, s.bytes.data(), s.bytes.data() + s.bytes.size(), out);
  } else {
    process_unicode_word(s, out);
  }
  s.raw.clear();
  s.raw_ascii = true;
}

size_t WordPiece::tokenize_prefix(std::string_view utf8, size_t stop_after,
                                  std::vector<int32_t>& out) const {
  Scratch s;
  const auto* const begin = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* const end = begin + utf8.size();
  const auto* p = begin;
  const bool split_cjk = opts_.tokenize_chinese_chars;
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      if (kAsciiInput[c] == kKeep) {
        // A run of printable ASCII. If it is a whole word (raw empty, ended by ASCII
        // whitespace or the end), it is processed straight from the input.
        const unsigned char* q = p + 1;
        while (q < end && *q < 0x80 && kAsciiInput[*q] == kKeep) ++q;
        const bool word_ends = q == end || (*q < 0x80 && kAsciiInput[*q] == kSpace);
        if (s.raw.empty() && word_ends) {
          process_ascii(s, p, q, out);
          if (q == end) return utf8.size();
          p = q + 1;
          if (out.size() >= stop_after) return static_cast<size_t>(p - begin);
        } else {
          s.raw.append(p, q);
          p = q;
        }
        continue;
      }
      ++p;
      const uint8_t k = kAsciiInput[c];
      if (k == kKeep) {
        s.raw.push_back(c);
      } else if (k == kSpace && !s.raw.empty()) {
        flush_raw(s, out);
        if (out.size() >= stop_after) return static_cast<size_t>(p - begin);
      }
      continue;
    }
    const char32_t cp = uni::decode_multibyte(p, end);
    if (cp == uni::kInvalid) continue;
    switch (uni::classify_input(cp, split_cjk)) {
      case uni::InputClass::kKeep:
        s.raw.push_back(cp);
        s.raw_ascii = false;
        break;
      case uni::InputClass::kDrop:
        break;
      case uni::InputClass::kSpace:
        if (!s.raw.empty()) {
          flush_raw(s, out);
          if (out.size() >= stop_after) return static_cast<size_t>(p - begin);
        }
        break;
      case uni::InputClass::kCjk:
        flush_raw(s, out);
        s.raw.push_back(cp);
        s.raw_ascii = false;
        flush_raw(s, out);
        if (out.size() >= stop_after) return static_cast<size_t>(p - begin);
        break;
    }
  }
  flush_raw(s, out);
  return utf8.size();
}

void WordPiece::tokenize_into(std::string_view utf8, std::vector<int32_t>& out) const {
  tokenize_prefix(utf8, SIZE_MAX, out);
}

std::vector<int32_t> WordPiece::tokenize(std::string_view utf8) const {
  std::vector<int32_t> out;
  out.reserve(utf8.size() / 4 + 8);
  tokenize_into(utf8, out);
  return out;
}

std::vector<int32_t> WordPiece::encode(std::string_view utf8, const Truncation& t,
                                       bool* truncated) const {
  if (t.max_tokens < 2)
    throw std::invalid_argument("Truncation.max_tokens must be at least 2 ([CLS] and [SEP])");
  const size_t budget = t.max_tokens - 2;
  if (t.tail_tokens > budget)
    throw std::invalid_argument("Truncation.tail_tokens must be at most max_tokens - 2");
  const size_t head_n = budget - t.tail_tokens;

  // Head: tokenize only until one piece more than fits (then the text is certainly cut).
  std::vector<int32_t> head;
  head.reserve(budget + 64);
  const size_t consumed = tokenize_prefix(utf8, budget + 1, head);
  std::vector<int32_t> out;
  out.reserve(std::min(head.size(), budget) + 2);
  out.push_back(cls_);
  if (head.size() <= budget) {  // the whole text fits
    out.insert(out.end(), head.begin(), head.end());
    out.push_back(sep_);
    if (truncated) *truncated = false;
    return out;
  }
  if (truncated) *truncated = true;
  out.insert(out.end(), head.begin(), head.begin() + static_cast<std::ptrdiff_t>(head_n));

  // Tail: the pieces of the full text are pieces(text[0, consumed)) followed by
  // pieces(text[consumed, end)), and the same holds at any ASCII whitespace byte (every
  // such byte is a word break and a UTF-8 decoding boundary). So the last tail pieces come
  // from a suffix that starts at ASCII whitespace and yields enough pieces, grown
  // geometrically; if none is found before `consumed`, the rest of the text is used.
  const size_t tail_n = t.tail_tokens;
  std::vector<int32_t> tail;
  if (tail_n > 0) {
    const std::string_view rest = utf8.substr(consumed);
    size_t window = kTailBytesPerToken * tail_n + 64;
    for (;;) {
      tail.clear();
      size_t start = 0;  // offset into rest
      if (rest.size() > window) {
        start = rest.size() - window;
        while (start > 0 && !is_ascii_space(rest[start])) --start;
      }
      tokenize_into(rest.substr(start), tail);
      if (tail.size() >= tail_n || start == 0) break;
      window *= 4;
    }
    if (tail.size() < tail_n) {  // the rest is short: the tail reaches into the head pieces
      std::vector<int32_t> joined(head.end() - static_cast<std::ptrdiff_t>(tail_n - tail.size()),
                                  head.end());
      joined.insert(joined.end(), tail.begin(), tail.end());
      tail.swap(joined);
    }
    out.insert(out.end(), tail.end() - static_cast<std::ptrdiff_t>(tail_n), tail.end());
  }
  out.push_back(sep_);
  return out;
}

}  // namespace sf::tok
