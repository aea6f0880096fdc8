// tokenizer_unicode.cpp: see tokenizer_unicode.h.
#include "model/tokenizer_unicode.h"

#include <utf8proc.h>

#include <utility>

namespace sf::tok::uni {
namespace {

utf8proc_propval_t category_of(char32_t cp) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->category;
}

// Python's str.lower() puts capital sigma in the Final_Sigma context by two properties
// from DerivedCoreProperties.txt. Case_Ignorable: categories Mn Me Cf Lm Sk plus the
// Word_Break classes MidLetter, MidNumLet and Single_Quote (listed below). Cased: Lu Ll
// Lt plus Other_Lowercase / Other_Uppercase characters; those of them that are not
// already case-ignorable are listed below. (Checked against CPython 3.11 for every code
// point.)
enum class CaseClass : uint8_t { kNone, kCased, kIgnorable };

bool is_word_break_mid(char32_t cp) {
  switch (cp) {
    case 0x0027:
    case 0x002E:
    case 0x003A:
    case 0x00B7:
    case 0x0387:
    case 0x055F:
    case 0x05F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      return false;
  }
}

bool is_other_cased(char32_t cp) {
  return cp == 0x00AA || cp == 0x00BA || (cp >= 0x2160 && cp <= 0x217F) ||
         (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
         (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
}

CaseClass case_class(char32_t cp) {
  if (is_word_break_mid(cp)) return CaseClass::kIgnorable;
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return CaseClass::kIgnorable;
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
      return CaseClass::kCased;
    default:
      return is_other_cased(cp) ? CaseClass::kCased : CaseClass::kNone;
  }
}

// Final_Sigma: preceded by a cased character and not followed by one, skipping
// case-ignorable characters in both directions (the rule as CPython applies it).
bool final_sigma(const char32_t* word, size_t n, size_t i) {
  bool after_cased = false;
  for (size_t j = i; j > 0; --j) {
    const CaseClass c = case_class(word[j - 1]);
    if (c == CaseClass::kIgnorable) continue;
    after_cased = c == CaseClass::kCased;
    break;
  }
  if (!after_cased) return false;
  for (size_t j = i + 1; j < n; ++j) {
    const CaseClass c = case_class(word[j]);
    if (c == CaseClass::kIgnorable) continue;
    return c != CaseClass::kCased;
  }
  return true;
}

template <typename T>
void canonical_order_impl(T* s, size_t n) {
  auto ccc = [](T cp) {
    return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
  };
  for (size_t i = 1; i < n; ++i) {
    const auto c = ccc(s[i]);
    if (c == 0) continue;
    for (size_t j = i; j > 0 && ccc(s[j - 1]) > c; --j) std::swap(s[j - 1], s[j]);
  }
}

// Canonical (NFD) decomposition of one code point; returns the count written to buf.
constexpr utf8proc_ssize_t kDecompMax = 32;  // canonical decompositions are <= 4 long
utf8proc_ssize_t decompose(char32_t cp, utf8proc_int32_t (&buf)[kDecompMax]) {
  int boundclass = 0;
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf,
                                                     kDecompMax, UTF8PROC_DECOMPOSE, &boundclass);
  if (n < 1 || n > kDecompMax) {
    buf[0] = static_cast<utf8proc_int32_t>(cp);
    return 1;
  }
  return n;
}

}  // namespace

InputClass classify_input(char32_t cp, bool split_cjk) {
  if (cp == 0xFFFD) return InputClass::kDrop;
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return InputClass::kDrop;
    case UTF8PROC_CATEGORY_ZS:
      return InputClass::kSpace;
    default:
      break;
  }
  // Line and paragraph separator: not BERT whitespace, but Python's str.split() splits on
  // them, so the reference treats them as word breaks.
  if (cp == 0x2028 || cp == 0x2029) return InputClass::kSpace;
  if (split_cjk && is_cjk_ideograph(cp)) return InputClass::kCjk;
  return InputClass::kKeep;
}

bool is_punctuation(char32_t cp) {
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_nonspacing_mark(char32_t cp) { return category_of(cp) == UTF8PROC_CATEGORY_MN; }

size_t lower_at(const char32_t* word, size_t n, size_t i, char32_t out[2]) {
  const char32_t cp = word[i];
  if (cp == 0x0130) {  // 'İ': Python's full mapping is "i" + COMBINING DOT ABOVE
    out[0] = U'i';
    out[1] = 0x0307;
    return 2;
  }
  if (cp == 0x03A3) {  // capital sigma
    out[0] = final_sigma(word, n, i) ? 0x03C2 : 0x03C3;
    return 1;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
  return 1;
}

void append_nfd(std::u32string& out, char32_t cp) {
  utf8proc_int32_t buf[kDecompMax];
  const utf8proc_ssize_t n = decompose(cp, buf);
  for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(buf[k]));
}

void canonical_order(char32_t* s, size_t n) { canonical_order_impl(s, n); }

void nfc_in_place(std::u32string& s, std::vector<int32_t>& tmp) {
  tmp.clear();
  for (const char32_t cp : s) {
    utf8proc_int32_t buf[kDecompMax];
    const utf8proc_ssize_t n = decompose(cp, buf);
    tmp.insert(tmp.end(), buf, buf + n);
  }
  canonical_order_impl(tmp.data(), tmp.size());
  const utf8proc_ssize_t len =
      utf8proc_normalize_utf32(tmp.data(), static_cast<utf8proc_ssize_t>(tmp.size()),
                               static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  s.clear();
  for (utf8proc_ssize_t k = 0; k < len; ++k) s.push_back(static_cast<char32_t>(tmp[k]));
}

}  // namespace sf::tok::uni
