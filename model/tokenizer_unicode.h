// tokenizer_unicode.h: the Unicode steps of BERT's basic tokenizer, one code point at a time.
//
// What it does: strict UTF-8 decoding, BERT's character classes (whitespace, control,
// punctuation, CJK ideograph), Python-compatible lower-casing (Final_Sigma, U+0130),
// canonical decomposition and ordering (NFD) and composition (NFC), on top of utf8proc.
// Promises: each predicate matches the Python reference (transformers' BasicTokenizer on
// CPython's unicodedata) for every code point assigned in both Unicode versions; the
// differences are the ones documented in tokenizer.h. Functions are pure and thread-safe.
// Failure: none; every input is accepted (ill-formed UTF-8 decodes to kInvalid).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sf::tok::uni {

inline constexpr char32_t kInvalid = 0xFFFFFFFFu;

// Decodes the multi-byte sequence at p (p < end, *p >= 0x80) and advances p past it.
// For an ill-formed sequence (overlong, surrogate, > U+10FFFF, truncated, stray
// continuation byte) advances one byte and returns kInvalid. Because the next bytes are
// then retried as starts and no valid start byte is ever swallowed, the code points
// produced are exactly those of Python's decode("utf-8", "replace") with the U+FFFD
// replacement characters left out.
inline char32_t decode_multibyte(const unsigned char*& p, const unsigned char* end) {
  const unsigned b0 = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [](unsigned b) { return (b & 0xC0u) == 0x80u; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (avail >= 2 && cont(p[1])) {
      const char32_t cp = ((b0 & 0x1Fu) << 6) | (p[1] & 0x3Fu);
      p += 2;
      return cp;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (avail >= 3) {
      const unsigned b1 = p[1];
      const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
      if (b1 >= lo && b1 <= hi && cont(p[2])) {
        const char32_t cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        p += 3;
        return cp;
      }
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (avail >= 4) {
      const unsigned b1 = p[1];
      const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
      const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (b1 >= lo && b1 <= hi && cont(p[2]) && cont(p[3])) {
        const char32_t cp =
            ((b0 & 0x07u) << 18) | ((b1 & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
        p += 4;
        return cp;
      }
    }
  }
  ++p;
  return kInvalid;
}

// Appends the UTF-8 encoding of a (valid, non-surrogate) code point.
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// What BERT's text cleaning and CJK spacing make of one input code point.
enum class InputClass : uint8_t {
  kKeep,   // part of a word
  kSpace,  // word break (whitespace)
  kDrop,   // removed (U+0000, U+FFFD, category C* other than \t \n \r)
  kCjk,    // CJK ideograph: a word of its own
};

// For code points >= 0x80 (ASCII is table-driven in tokenizer.cpp).
InputClass classify_input(char32_t cp, bool split_cjk);

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks and extensions A-E plus the
// compatibility ideographs, with the exact ranges of the reference implementation.
constexpr bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// BERT's _is_punctuation for code points >= 0x80: general category P*.
bool is_punctuation(char32_t cp);

// Nonspacing mark (category Mn): what strip_accents removes after NFD.
bool is_nonspacing_mark(char32_t cp);

// Lower-cases word[i] as Python's str.lower() does on the whole word: writes one or two
// code points to out and returns how many. word[i] must be >= 0x80.
size_t lower_at(const char32_t* word, size_t n, size_t i, char32_t out[2]);

// Appends the canonical decomposition of cp (not yet canonically ordered) to out.
void append_nfd(std::u32string& out, char32_t cp);

// Canonical ordering of combining marks (the last step of NFD), in place.
void canonical_order(char32_t* s, size_t n);

// NFC of s (any normalization form on input), in place. Uses tmp as workspace.
void nfc_in_place(std::u32string& s, std::vector<int32_t>& tmp);

}  // namespace sf::tok::uni
