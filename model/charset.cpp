// Charsets to UTF-8: see charset.h for the contract.
#include "model/charset.h"

#include <iconv.h>
#include <uchardet/uchardet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>
#include <vector>

#include "model/mail_flags.h"

namespace sf::mail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr size_t kDetectBytes = 64 << 10;
constexpr size_t kMaxLabel = 40;

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is not well-formed.
size_t utf8_seq_len(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  const size_t left = s.size() - i;
  if (c >= 0xC2 && c <= 0xDF) {
    return left >= 2 && (b(i + 1) & 0xC0) == 0x80 ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3) return 0;
    const unsigned char c1 = b(i + 1);
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    if (c1 < lo || c1 > hi || (b(i + 2) & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4) return 0;
    const unsigned char c1 = b(i + 1);
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    if (c1 < lo || c1 > hi || (b(i + 2) & 0xC0) != 0x80 || (b(i + 3) & 0xC0) != 0x80) return 0;
    return 4;
  }
  return 0;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

enum class Kind { kAscii, kUtf8, kSingleByte, kMultiByte, kStateful7Bit, kWide };

Kind charset_kind(std::string_view canon) {
  if (canon.empty() || canon == "ASCII") return Kind::kAscii;
  if (canon == "UTF-8") return Kind::kUtf8;
  const auto starts = [&](std::string_view p) { return canon.substr(0, p.size()) == p; };
  if (starts("UTF-16") || starts("UTF-32") || starts("UCS-2") || starts("UCS-4") ||
      starts("UNICODE")) {
    return Kind::kWide;
  }
  if (starts("UTF-7") || starts("ISO-2022") || starts("HZ")) return Kind::kStateful7Bit;
  if (starts("ISO-8859") || starts("WINDOWS-") || starts("CP12") || starts("KOI8") ||
      starts("MAC") || starts("IBM") || starts("CP8") || starts("TIS")) {
    return Kind::kSingleByte;
  }
  return Kind::kMultiByte;
}

struct Alias {
  std::string_view label;
  std::string_view name;
};

// Labels seen in mail, mapped to the iconv name of the charset that mail clients really use.
constexpr std::array kAliases = {
    Alias{"us-ascii", "ASCII"},
    Alias{"ascii", "ASCII"},
    Alias{"ansi_x3.4-1968", "ASCII"},
    Alias{"iso-646-us", "ASCII"},
    Alias{"us", "ASCII"},
    Alias{"csascii", "ASCII"},
    Alias{"utf-8", "UTF-8"},
    Alias{"utf8", "UTF-8"},
    Alias{"unicode-1-1-utf-8", "UTF-8"},
    Alias{"x-unicode20utf8", "UTF-8"},
    Alias{"iso-8859-1", "WINDOWS-1252"},
    Alias{"iso8859-1", "WINDOWS-1252"},
    Alias{"iso_8859-1", "WINDOWS-1252"},
    Alias{"latin1", "WINDOWS-1252"},
    Alias{"latin-1", "WINDOWS-1252"},
    Alias{"l1", "WINDOWS-1252"},
    Alias{"cp819", "WINDOWS-1252"},
    Alias{"csisolatin1", "WINDOWS-1252"},
    Alias{"windows-1252", "WINDOWS-1252"},
    Alias{"cp1252", "WINDOWS-1252"},
    Alias{"x-cp1252", "WINDOWS-1252"},
    Alias{"iso-8859-9", "WINDOWS-1254"},
    Alias{"latin5", "WINDOWS-1254"},
    Alias{"iso-8859-11", "WINDOWS-874"},
    Alias{"tis-620", "WINDOWS-874"},
    Alias{"windows-874", "WINDOWS-874"},
    Alias{"shift_jis", "CP932"},
    Alias{"shift-jis", "CP932"},
    Alias{"sjis", "CP932"},
    Alias{"x-sjis", "CP932"},
    Alias{"ms_kanji", "CP932"},
    Alias{"csshiftjis", "CP932"},
    Alias{"windows-31j", "CP932"},
    Alias{"cp932", "CP932"},
    Alias{"euc-jp", "EUC-JP-MS"},
    Alias{"x-euc-jp", "EUC-JP-MS"},
    Alias{"gb2312", "GB18030"},
    Alias{"gbk", "GB18030"},
    Alias{"x-gbk", "GB18030"},
    Alias{"cp936", "GB18030"},
    Alias{"euc-cn", "GB18030"},
    Alias{"x-euc-cn", "GB18030"},
    Alias{"csgb2312", "GB18030"},
    Alias{"gb_2312-80", "GB18030"},
    Alias{"chinese", "GB18030"},
    Alias{"gb18030", "GB18030"},
    Alias{"big5", "BIG5-HKSCS"},
    Alias{"x-x-big5", "BIG5-HKSCS"},
    Alias{"cn-big5", "BIG5-HKSCS"},
    Alias{"big5-hkscs", "BIG5-HKSCS"},
    Alias{"euc-kr", "CP949"},
    Alias{"ks_c_5601-1987", "CP949"},
    Alias{"ks_c_5601", "CP949"},
    Alias{"ksc5601", "CP949"},
    Alias{"korean", "CP949"},
    Alias{"cp949", "CP949"},
    Alias{"windows-949", "CP949"},
    Alias{"uhc", "CP949"},
    Alias{"koi8-r", "KOI8-R"},
    Alias{"koi8r", "KOI8-R"},
    Alias{"cskoi8r", "KOI8-R"},
    Alias{"koi8-u", "KOI8-U"},
    Alias{"utf-7", "UTF-7"},
    Alias{"unicode-1-1-utf-7", "UTF-7"},
    Alias{"x-mac-roman", "MACINTOSH"},
    Alias{"macintosh", "MACINTOSH"},
    Alias{"x-mac-cyrillic", "MAC-CYRILLIC"},
    Alias{"iso-8859-8-i", "ISO-8859-8"},
    Alias{"iso-8859-6-i", "ISO-8859-6"},
};

// Cached iconv descriptors "to UTF-8" of one thread (a few charsets recur; opening is slow).
class IconvCache {
 public:
  ~IconvCache() {
    for (auto& e : entries_) {
      if (e.second != kInvalid) iconv_close(e.second);
    }
  }
  // Descriptor converting `name` to UTF-8, reset to its initial state; kInvalid if unknown.
  iconv_t get(const std::string& name) {
    for (auto& e : entries_) {
      if (e.first == name) {
        if (e.second != kInvalid) iconv(e.second, nullptr, nullptr, nullptr, nullptr);
        return e.second;
      }
    }
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (entries_.size() >= kMaxEntries) {
      if (entries_.front().second != kInvalid) iconv_close(entries_.front().second);
      entries_.erase(entries_.begin());
    }
    entries_.emplace_back(name, cd);
    return cd;
  }
  static inline const iconv_t kInvalid = reinterpret_cast<iconv_t>(-1);

 private:
  static constexpr size_t kMaxEntries = 24;
  std::vector<std::pair<std::string, iconv_t>> entries_;
};

IconvCache& iconv_cache() {
  thread_local IconvCache cache;
  return cache;
}

struct Converted {
  std::string text;
  size_t bad = 0;
  bool truncated = false;
};

void cut_to(Converted& c, size_t max_out) {
  if (c.text.size() > max_out) {
    c.text.resize(utf8_cut(c.text, max_out));
    c.truncated = true;
  }
}

// Converts with an open descriptor; invalid or incomplete input bytes become U+FFFD.
Converted convert(iconv_t cd, std::string_view in, size_t max_out) {
  Converted c;
  c.text.reserve(std::min(in.size() + in.size() / 2, max_out) + 8);
  char* ip = const_cast<char*>(in.data());
  size_t il = in.size();
  std::array<char, 8192> buf;
  while (il > 0 && c.text.size() < max_out) {
    char* op = buf.data();
    size_t ol = buf.size();
    const size_t r = iconv(cd, &ip, &il, &op, &ol);
    c.text.append(buf.data(), static_cast<size_t>(op - buf.data()));
    if (r != static_cast<size_t>(-1)) continue;
    if (errno == E2BIG) continue;
    c.text.append(kReplacement);
    ++c.bad;
    if (errno == EILSEQ) {  // skip one byte, resynchronise
      ++ip;
      --il;
      continue;
    }
    il = 0;  // EINVAL: incomplete sequence at the end (not a truncation by max_out)
    break;
  }
  char* op = buf.data();
  size_t ol = buf.size();
  iconv(cd, nullptr, nullptr, &op, &ol);  // flush shift state of stateful encodings
  c.text.append(buf.data(), static_cast<size_t>(op - buf.data()));
  if (il > 0) c.truncated = true;
  if (!utf8_valid(c.text)) {
    // glibc writes 5- and 6-byte sequences for UCS-4 values above U+10FFFF: do not trust it.
    std::string clean;
    c.bad += utf8_append_sanitized(clean, c.text);
    c.text = std::move(clean);
  }
  cut_to(c, max_out);
  return c;
}

Converted take_utf8(std::string_view in, size_t max_out) {
  Converted c;
  size_t end = max_out >= in.size() ? in.size() : max_out + 4;
  // Do not split a sequence where the input is cut: back off to a lead byte.
  while (end < in.size() && end > 0 && (static_cast<unsigned char>(in[end]) & 0xC0) == 0x80) --end;
  const std::string_view head = in.substr(0, end);
  c.bad = utf8_append_sanitized(c.text, head);
  c.truncated = head.size() < in.size();
  cut_to(c, max_out);
  return c;
}

// Converts with the named charset; falls back to UTF-8 sanitising if iconv cannot open it.
Converted convert_named(const std::string& name, std::string_view in, size_t max_out) {
  if (name == "UTF-8") return take_utf8(in, max_out);
  iconv_t cd = iconv_cache().get(name);
  if (cd == IconvCache::kInvalid) {
    cd = iconv_cache().get("WINDOWS-1252");
    if (cd == IconvCache::kInvalid) return take_utf8(in, max_out);
  }
  return convert(cd, in, max_out);
}

std::string detect_or_default(std::string_view bytes) {
  std::string det = charset_detect(bytes);
  if (det.empty() || det == "ASCII" || det == "UTF-8") det = "WINDOWS-1252";
  return det;
}

}  // namespace

bool utf8_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_seq_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t utf8_append_sanitized(std::string& out, std::string_view s) {
  size_t replaced = 0;
  size_t i = 0;
  size_t run = 0;  // start of the current run of valid bytes
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_seq_len(s, i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(s.substr(run, i - run));
    out.append(kReplacement);
    ++replaced;
    // Skip the maximal prefix of a sequence (lead byte plus any continuation bytes).
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80 &&
           utf8_seq_len(s, i) == 0) {
      ++i;
    }
    run = i;
  }
  out.append(s.substr(run));
  return replaced;
}

size_t utf8_cut(std::string_view s, size_t max) {
  if (max >= s.size()) return s.size();
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

std::string charset_canonical(std::string_view label) {
  // Trim blanks and quotes; drop comments, parameters and RFC 2231 language suffixes.
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '"' || c == '\''; };
  while (!label.empty() && blank(label.front())) label.remove_prefix(1);
  const size_t stop = label.find_first_of(" \t\"'(;*");
  if (stop != std::string_view::npos) label = label.substr(0, stop);
  if (label.empty()) return "";
  if (label.size() > kMaxLabel) return "?";
  std::string lower;
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
    if (!ok) return "?";  // never handed to iconv_open ("//" would be read as options)
    lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  }
  for (const Alias& a : kAliases) {
    if (a.label == lower) return std::string(a.name);
  }
  std::string upper;
  for (char c : lower) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  if (upper.rfind("X-", 0) == 0) upper.erase(0, 2);
  if (upper.rfind("CP125", 0) == 0 && upper.size() == 6) upper = "WINDOWS-" + upper.substr(2);
  return upper;
}

std::string charset_detect(std::string_view bytes) {
  struct Detector {
    uchardet_t ud = uchardet_new();
    ~Detector() { uchardet_delete(ud); }
  };
  thread_local Detector det;
  if (det.ud == nullptr) return "";
  uchardet_reset(det.ud);
  const std::string_view head = bytes.substr(0, std::min(bytes.size(), kDetectBytes));
  if (uchardet_handle_data(det.ud, head.data(), head.size()) != 0) return "";
  uchardet_data_end(det.ud);
  const char* name = uchardet_get_charset(det.ud);
  std::string canon = charset_canonical(name == nullptr ? "" : name);
  if (canon == "ASCII" || canon == "?") canon.clear();
  if (charset_kind(canon) == Kind::kWide) {
    // A byte order mark alone makes the detector say UTF-16; text in it has many NULs.
    const auto nuls = static_cast<size_t>(std::count(head.begin(), head.end(), '\0'));
    if (nuls * 16 < head.size()) canon.clear();
  }
  return canon;
}

std::string to_utf8(std::string_view bytes, std::string_view declared, uint32_t& flags,
                    size_t max_out, bool* truncated) {
  const std::string canon = charset_canonical(declared);
  const Kind kind = charset_kind(canon);
  Converted result;
  const bool ascii_compatible = kind != Kind::kWide && kind != Kind::kStateful7Bit;
  const bool has_escape = bytes.find('\x1b') != std::string_view::npos;

  const bool known = kind == Kind::kAscii || kind == Kind::kUtf8 ||
                     (canon != "?" && iconv_cache().get(canon) != IconvCache::kInvalid);

  if (!known) {
    flags |= kUnknownCharset | kCharsetDetected;
    if (utf8_valid(bytes)) {
      result = take_utf8(bytes, max_out);
    } else {
      result = convert_named(detect_or_default(bytes), bytes, max_out);
    }
  } else if (ascii_compatible && is_ascii(bytes) && !(kind == Kind::kAscii && has_escape)) {
    result.text.assign(bytes.substr(0, std::min(bytes.size(), max_out)));
    result.truncated = result.text.size() < bytes.size();
  } else if (kind == Kind::kAscii || kind == Kind::kUtf8 || kind == Kind::kSingleByte) {
    if (utf8_valid(bytes)) {
      if (kind != Kind::kUtf8) flags |= kCharsetDetected;
      result = take_utf8(bytes, max_out);
    } else if (kind == Kind::kSingleByte) {
      result = convert_named(canon, bytes, max_out);
    } else {
      // Missing, ASCII or UTF-8 label on bytes that are not UTF-8: detect.
      flags |= kCharsetDetected;
      result = convert_named(detect_or_default(bytes), bytes, max_out);
    }
  } else {
    result = convert_named(canon, bytes, max_out);
    if (result.bad > 0) {
      // The label does not fit the bytes: try UTF-8, then the detector's guess.
      if (utf8_valid(bytes)) {
        flags |= kCharsetDetected;
        result = take_utf8(bytes, max_out);
      } else {
        const std::string det = charset_detect(bytes);
        if (!det.empty() && det != canon) {
          Converted other = convert_named(det, bytes, max_out);
          if (other.bad < result.bad) {
            flags |= kCharsetDetected;
            result = std::move(other);
          }
        }
      }
    }
  }
  if (result.bad > 0) flags |= kInvalidUtf8;
  if (result.text.rfind("\xEF\xBB\xBF", 0) == 0) result.text.erase(0, 3);
  if (truncated != nullptr) *truncated = result.truncated;
  return std::move(result.text);
}

}  // namespace sf::mail
