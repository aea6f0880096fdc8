// Mail header fields: see mail_header.h for the contract.
#include "model/mail_header.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "model/charset.h"
#include "model/mail_codec.h"
#include "model/mail_flags.h"

namespace sf::mail {
namespace {

constexpr size_t kMaxCharsetName = 76;     // longest charset name of an encoded word
constexpr size_t kMaxEncodedText = 2048;   // longest encoded text of one encoded word
constexpr size_t kMaxContinuations = 256;  // RFC 2231 continuation segments per parameter

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Appends a piece of a field value, NULs replaced by spaces, capped at `max` bytes.
void append_value(std::string& dst, std::string_view piece, size_t max, uint32_t& flags) {
  if (dst.size() + piece.size() > max) {
    flags |= kHeaderTruncated;
    piece = piece.substr(0, max > dst.size() ? max - dst.size() : 0);
  }
  const size_t start = dst.size();
  dst.append(piece);
  for (size_t i = start; i < dst.size(); ++i) {
    if (dst[i] == '\0') dst[i] = ' ';
  }
}

bool valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 32 && c < 127 && c != ':';
  });
}

// Removes RFC 822 comments "( ... )" (nested, outside quoted strings) and all blanks.
std::string strip_comments_and_blanks(std::string_view s) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && depth > 0) {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0 && !is_space(c) && c != '"') {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// An RFC 2047 encoded word "=?charset?B|Q?text?=" starting at raw[i].
struct EncodedWord {
  std::string_view charset;
  char encoding = 0;
  std::string_view text;
  size_t end = 0;  // position after "?="
};

// With `lenient`, the encoded text may hold blanks (spam tools write "=?big5?Q?a b?="). It
// never holds the start of another encoded word ("=?" not followed by '=', which is B padding).
bool parse_encoded_word(std::string_view raw, size_t i, bool lenient, EncodedWord& w) {
  if (raw.compare(i, 2, "=?") != 0) return false;
  const size_t cs = i + 2;
  size_t q = cs;
  while (q < raw.size() && q - cs <= kMaxCharsetName && raw[q] != '?') {
    if (is_space(raw[q])) return false;
    ++q;
  }
  if (q >= raw.size() || raw[q] != '?' || q == cs) return false;
  if (q + 2 >= raw.size() || raw[q + 2] != '?') return false;
  const char enc = static_cast<char>(raw[q + 1] & ~0x20);  // upper case
  if (enc != 'B' && enc != 'Q') return false;
  const size_t t = q + 3;
  size_t e = t;
  while (e + 1 < raw.size() && e - t <= kMaxEncodedText) {
    if (raw[e] == '?' && raw[e + 1] == '=') {
      w.charset = raw.substr(cs, q - cs);
      w.encoding = enc;
      w.text = raw.substr(t, e - t);
      w.end = e + 2;
      return true;
    }
    if (is_space(raw[e]) && !lenient) return false;
    if (raw[e] == '=' && raw[e + 1] == '?' && e + 2 < raw.size() && raw[e + 2] != '=') {
      return false;  // another encoded word starts here (so all scans together stay linear)
    }
    ++e;
  }
  return false;
}

// Converts a run of header bytes that was not encoded: ASCII and UTF-8 as is, else the
// fallback charset (or detection).
std::string decode_raw(std::string_view bytes, std::string_view fallback_charset, uint32_t& flags) {
  if (is_ascii(bytes) || utf8_valid(bytes)) return std::string(bytes);  // RFC 6532 allows UTF-8
  flags |= kEightBitHeaders;
  uint32_t charset_flags = 0;
  std::string out = to_utf8(bytes, fallback_charset, charset_flags);
  flags |= charset_flags & ~kUnknownCharset;  // the fallback is a guess, not a declaration
  return out;
}

}  // namespace

EntityHeader header_parse(std::string_view entity, size_t max_field_bytes, bool skip_mbox_from,
                          uint32_t& flags) {
  EntityHeader h;
  size_t pos = 0;
  if (skip_mbox_from && entity.substr(0, 5) == "From ") {
    const size_t eol = entity.find('\n');
    pos = eol == std::string_view::npos ? entity.size() : eol + 1;
  }
  std::array<bool, 5> seen{};
  std::string* current = nullptr;  // kept field being read; nullptr for skipped fields
  bool in_field = false;           // continuation lines belong to the previous field
  h.body_offset = entity.size();
  while (pos < entity.size()) {
    const size_t eol = entity.find('\n', pos);
    const size_t line_end = eol == std::string_view::npos ? entity.size() : eol;
    const size_t next = eol == std::string_view::npos ? entity.size() : eol + 1;
    std::string_view line = entity.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      h.body_offset = next;
      break;
    }
    if (std::memchr(line.data(), '\0', line.size()) != nullptr) flags |= kNulInHeaders;
    if (is_blank(line.front())) {
      if (in_field) {
        if (current != nullptr) append_value(*current, line, max_field_bytes, flags);
        pos = next;
        continue;
      }
      if (trim(line).empty()) {  // a line of blanks before any field: treat as the empty line
        h.body_offset = next;
        break;
      }
      flags |= kMalformedHeader;
      h.body_offset = pos;
      break;
    }
    const size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : line.substr(0, colon);
    while (!name.empty() && is_blank(name.back())) name.remove_suffix(1);
    if (colon == std::string_view::npos || !valid_field_name(name)) {
      flags |= kMalformedHeader;  // not a field: the body starts here (blank line missing)
      h.body_offset = pos;
      break;
    }
    in_field = true;
    current = nullptr;
    int slot = -1;
    if (iequals(name, "subject")) {
      slot = 0;
    } else if (iequals(name, "from")) {
      slot = 1;
    } else if (iequals(name, "content-type")) {
      slot = 2;
    } else if (iequals(name, "content-transfer-encoding")) {
      slot = 3;
    } else if (iequals(name, "content-disposition")) {
      slot = 4;
    }
    if (slot >= 0 && !seen[static_cast<size_t>(slot)]) {
      seen[static_cast<size_t>(slot)] = true;
      std::string* fields[] = {&h.subject, &h.from, &h.content_type, &h.transfer_encoding,
                               &h.disposition};
      current = fields[slot];
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && is_blank(value.front())) value.remove_prefix(1);
      append_value(*current, value, max_field_bytes, flags);
    }
    pos = next;
  }
  h.has_subject = seen[0];
  h.has_from = seen[1];
  return h;
}

FieldValue field_parse(std::string_view raw) {
  FieldValue f;
  size_t i = 0;
  // The main value runs to the first ';' (quotes do not belong there).
  size_t semi = raw.find(';');
  if (semi == std::string_view::npos) semi = raw.size();
  f.value = to_lower(strip_comments_and_blanks(raw.substr(0, semi)));
  i = semi;
  while (i < raw.size()) {
    ++i;  // past ';'
    while (i < raw.size() && is_space(raw[i])) ++i;
    const size_t name_start = i;
    while (i < raw.size() && raw[i] != '=' && raw[i] != ';') ++i;
    std::string name = to_lower(trim(raw.substr(name_start, i - name_start)));
    std::string value;
    if (i < raw.size() && raw[i] == '=') {
      ++i;
      while (i < raw.size() && is_space(raw[i])) ++i;
      if (i < raw.size() && raw[i] == '"') {
        ++i;
        while (i < raw.size() && raw[i] != '"') {
          if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
          value.push_back(raw[i]);
          ++i;
        }
        if (i < raw.size()) ++i;  // closing quote
        while (i < raw.size() && raw[i] != ';') ++i;
      } else {
        const size_t v = i;
        while (i < raw.size() && raw[i] != ';') ++i;
        std::string_view token = trim(raw.substr(v, i - v));
        // A trailing comment: "us-ascii (Plain Text)".
        const size_t comment = token.find('(');
        if (comment != std::string_view::npos && comment > 0 && is_space(token[comment - 1])) {
          token = trim(token.substr(0, comment));
        }
        value.assign(token);
      }
    }
    if (!name.empty()) f.params.emplace_back(std::move(name), std::move(value));
  }
  return f;
}

std::string field_param_raw(const FieldValue& field, std::string_view name) {
  for (const auto& [n, v] : field.params) {
    if (n == name) return v;
  }
  return "";
}

std::string field_param_text(const FieldValue& field, std::string_view name,
                             std::string_view fallback_charset, uint32_t& flags) {
  // RFC 2231: name*=charset'lang'%XX..., or segments name*0[*], name*1[*], ...
  struct Segment {
    size_t index;
    bool extended;
    std::string_view value;
  };
  std::vector<Segment> segments;
  for (const auto& [n, v] : field.params) {
    if (n.size() <= name.size() || n.compare(0, name.size(), name) != 0 || n[name.size()] != '*') {
      continue;
    }
    std::string_view rest = std::string_view(n).substr(name.size() + 1);
    if (rest.empty()) {  // name*=
      segments.push_back({0, true, v});
      continue;
    }
    const bool extended = rest.back() == '*';
    if (extended) rest.remove_suffix(1);
    if (rest.empty() || rest.size() > 3 ||
        !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (segments.size() < kMaxContinuations) {
      segments.push_back({static_cast<size_t>(std::stoi(std::string(rest))), extended, v});
    }
  }
  if (!segments.empty()) {
    std::stable_sort(segments.begin(), segments.end(),
                     [](const Segment& a, const Segment& b) { return a.index < b.index; });
    std::string charset;
    std::string bytes;
    for (size_t k = 0; k < segments.size(); ++k) {
      if (k > 0 && segments[k].index == segments[k - 1].index) continue;  // duplicate
      std::string_view v = segments[k].value;
      if (segments[k].extended) {
        if (k == 0) {  // charset'language'text
          const size_t q1 = v.find('\'');
          const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset.assign(v.substr(0, q1));
            v = v.substr(q2 + 1);
          }
        }
        bytes += percent_decode(v);
      } else {
        bytes.append(v);
      }
    }
    if (charset.empty()) return header_decode(bytes, fallback_charset, flags);
    return to_utf8(bytes, charset, flags);
  }
  const std::string raw = field_param_raw(field, name);
  if (raw.empty()) return raw;
  return header_decode(raw, fallback_charset, flags);
}

std::string header_decode(std::string_view raw, std::string_view fallback_charset,
                          uint32_t& flags) {
  struct Chunk {
    std::string bytes;
    std::string charset;  // of an encoded chunk
    bool encoded;
  };
  std::vector<Chunk> chunks;
  const auto add_literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (chunks.empty() || chunks.back().encoded) {
      chunks.push_back({std::string(s), "", false});
    } else {
      chunks.back().bytes.append(s);
    }
  };
  bool last_encoded = false;
  std::string_view pending_space;  // blanks after an encoded word, dropped before another one
  size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (c == '=' && i + 1 < raw.size() && raw[i + 1] == '?') {
      EncodedWord w;
      if (parse_encoded_word(raw, i, false, w) || parse_encoded_word(raw, i, true, w)) {
        bool bad = false;
        std::string bytes = w.encoding == 'B' ? base64_decode(w.text, bad) : q_decode(w.text, bad);
        if (bad) flags |= kBadEncodedWord;
        if (!last_encoded) add_literal(pending_space);
        pending_space = {};
        std::string charset(w.charset);
        if (!chunks.empty() && chunks.back().encoded && chunks.back().charset == charset) {
          chunks.back().bytes += bytes;
        } else {
          chunks.push_back({std::move(bytes), std::move(charset), true});
        }
        last_encoded = true;
        i = w.end;
        continue;
      }
      flags |= kBadEncodedWord;  // "=?" that does not start a valid encoded word: literal
    }
    if (is_space(c)) {
      size_t j = i;
      while (j < raw.size() && is_space(raw[j])) ++j;
      if (last_encoded) {
        pending_space = raw.substr(i, j - i);
      } else {
        add_literal(raw.substr(i, j - i));
      }
      i = j;
      continue;
    }
    size_t j = i + 1;
    while (j < raw.size() && !is_space(raw[j]) &&
           !(raw[j] == '=' && j + 1 < raw.size() && raw[j + 1] == '?')) {
      ++j;
    }
    add_literal(pending_space);
    pending_space = {};
    add_literal(raw.substr(i, j - i));
    last_encoded = false;
    i = j;
  }
  add_literal(pending_space);
  std::string out;
  for (const Chunk& chunk : chunks) {
    if (chunk.encoded) {
      out += to_utf8(chunk.bytes, chunk.charset, flags);
    } else {
      out += decode_raw(chunk.bytes, fallback_charset, flags);
    }
  }
  return out;
}

Address address_parse(std::string_view raw, std::string_view fallback_charset, uint32_t& flags) {
  // Find the first angle address and the first comment outside quoted strings.
  size_t lt = std::string_view::npos;
  size_t comment_start = std::string_view::npos;
  size_t comment_end = std::string_view::npos;
  bool quoted = false;
  int depth = 0;
  for (size_t i = 0; i < raw.size() && lt == std::string_view::npos; ++i) {
    const char c = raw[i];
    if (c == '\\') {
      ++i;
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '(') {
      if (depth++ == 0 && comment_start == std::string_view::npos) comment_start = i + 1;
    } else if (c == ')' && depth > 0) {
      if (--depth == 0 && comment_end == std::string_view::npos) comment_end = i;
    } else if (depth == 0 && c == '"') {
      quoted = true;
    } else if (depth == 0 && c == '<') {
      lt = i;
    }
  }
  std::string_view addr;
  std::string_view name_raw;
  if (lt != std::string_view::npos) {
    const size_t gt = raw.find('>', lt);
    addr = raw.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
    name_raw = raw.substr(0, lt);
  } else {
    // addr-spec form: "joe@example.com (Joe Example)"; the first token holding '@'.
    size_t i = 0;
    while (i < raw.size()) {
      while (i < raw.size() && (is_space(raw[i]) || raw[i] == ',')) ++i;
      size_t j = i;
      while (j < raw.size() && !is_space(raw[j]) && raw[j] != ',' && raw[j] != '(') ++j;
      if (j == i) {
        ++i;
        continue;
      }
      const std::string_view token = raw.substr(i, j - i);
      if (token.find('@') != std::string_view::npos) {
        addr = token;
        break;
      }
      i = j;
    }
    if (addr.empty()) {
      name_raw = raw;
    } else if (comment_start != std::string_view::npos) {
      name_raw = raw.substr(comment_start, comment_end == std::string_view::npos
                                               ? std::string_view::npos
                                               : comment_end - comment_start);
    }
  }
  Address a;
  // Unquote the display name (remove quotes, undo backslash escapes), then decode it.
  std::string unquoted;
  for (size_t i = 0; i < name_raw.size(); ++i) {
    if (name_raw[i] == '\\' && i + 1 < name_raw.size()) {
      unquoted.push_back(name_raw[++i]);
    } else if (name_raw[i] != '"') {
      unquoted.push_back(name_raw[i]);
    }
  }
  a.name = header_decode(unquoted, fallback_charset, flags);
  const size_t at = addr.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view dom = addr.substr(at + 1);
    size_t k = 0;
    while (k < dom.size() && is_space(dom[k])) ++k;
    size_t e = k;
    while (e < dom.size() && !is_space(dom[e]) && std::strchr(">),;\"<(", dom[e]) == nullptr &&
           dom[e] != '\0') {
      ++e;
    }
    dom = dom.substr(k, e - k);
    while (!dom.empty() && dom.back() == '.') dom.remove_suffix(1);
    std::string lowered = to_lower(dom);
    if (!utf8_valid(lowered)) {
      std::string clean;
      utf8_append_sanitized(clean, lowered);
      flags |= kEightBitHeaders;
      lowered = std::move(clean);
    }
    a.domain = std::move(lowered);
  }
  return a;
}

}  // namespace sf::mail
