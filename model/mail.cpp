// Mail to text: see mail.h for the contract.
#include "model/mail.h"

#include <algorithm>
#include <array>
#include <deque>
#include <utility>

#include "model/charset.h"
#include "model/html_text.h"
#include "model/mail_codec.h"
#include "model/mail_header.h"
#include "model/mail_text.h"

namespace sf::mail {
namespace {

constexpr std::array<const char*, kFlagCount> kFlagNames = {
    "input_truncated",
    "body_text_truncated",
    "too_many_parts",
    "too_deep",
    "missing_boundary",
    "unterminated_multipart",
    "bad_base64",
    "bad_quoted_printable",
    "bad_encoded_word",
    "unknown_charset",
    "charset_detected",
    "invalid_utf8",
    "nul_in_headers",
    "empty_message",
    "no_text_body",
    "html_only",
    "malformed_header",
    "header_truncated",
    "unknown_transfer_encoding",
    "html_flattened",
    "eight_bit_headers",
    "internal_error",
};

constexpr size_t kMaxBoundary = 200;   // longer "boundaries" are treated as missing
constexpr size_t kMaxNameBytes = 255;  // of one attachment name
constexpr size_t kGuessLines = 200;    // lines searched for a missing boundary
constexpr size_t kGuessSearches = 4;   // candidates checked for a recurrence in the body

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool all_space(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The text gathered below one entity, and what kind of parts it came from.
struct Text {
  std::string text;
  bool plain = false;  // some text came from a non-HTML text part
  bool html = false;   // some text came from an HTML part
  bool truncated = false;
};

size_t room_in(const Text& sink, size_t cap) {
  const size_t used = sink.text.size() + (sink.text.empty() ? 0 : 1);  // "\n" separator
  return cap > used ? cap - used : 0;
}

// One line of an entity body: [start, end) without its line break; `next` is the next line.
struct Line {
  size_t start;
  size_t end;
  size_t next;
};

Line line_at(std::string_view s, size_t pos) {
  const size_t eol = s.find('\n', pos);
  Line l{pos, eol == std::string_view::npos ? s.size() : eol,
         eol == std::string_view::npos ? s.size() : eol + 1};
  if (l.end > l.start && s[l.end - 1] == '\r') --l.end;
  return l;
}

struct Split {
  std::vector<std::string_view> parts;
  bool found = false;   // at least one delimiter line
  bool closed = false;  // the close delimiter was seen
};

// Splits a multipart body at delimiter lines ("--boundary" plus optional blanks; "--boundary--"
// closes). Only whole lines match. At most max_parts + 1 parts are collected.
Split split_multipart(std::string_view body, std::string_view boundary, size_t max_parts) {
  Split s;
  const std::string delim = "--" + std::string(boundary);
  size_t part_start = std::string_view::npos;
  size_t pos = 0;
  while (pos < body.size()) {
    const Line l = line_at(body, pos);
    std::string_view line = body.substr(l.start, l.end - l.start);
    if (line.size() >= delim.size() && line[0] == '-' && starts_with(line, delim)) {
      std::string_view rest = line.substr(delim.size());
      const bool close = starts_with(rest, "--");
      if (close) rest.remove_prefix(2);
      if (std::all_of(rest.begin(), rest.end(), is_blank)) {
        if (part_start != std::string_view::npos) {
          size_t end = l.start;  // the line break before a delimiter belongs to it
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          s.parts.push_back(body.substr(part_start, end - part_start));
          if (s.parts.size() > max_parts) return s;
        }
        s.found = true;
        if (close) {
          s.closed = true;
          return s;
        }
        part_start = l.next;
      }
    }
    pos = l.next;
  }
  if (part_start != std::string_view::npos) s.parts.push_back(body.substr(part_start));
  return s;
}

bool looks_like_field(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

// A boundary for a multipart without one: the first "--xyz" line that is followed by a header
// field or that recurs. "" if there is none.
std::string guess_boundary(std::string_view body) {
  size_t pos = 0;
  size_t searches = 0;  // whole-body searches for a recurrence (each is linear)
  for (size_t n = 0; n < kGuessLines && pos < body.size(); ++n) {
    const Line l = line_at(body, pos);
    std::string_view line = body.substr(l.start, l.end - l.start);
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    if (line.size() > 2 && starts_with(line, "--") && line.size() - 2 <= kMaxBoundary) {
      std::string_view candidate = line.substr(2);
      const Line following = line_at(body, l.next);
      const bool header_next =
          looks_like_field(body.substr(following.start, following.end - following.start));
      const std::string again = "\n" + std::string(line);
      if (header_next ||
          (searches++ < kGuessSearches && body.find(again, l.next) != std::string_view::npos)) {
        return std::string(candidate);
      }
    }
    pos = l.next;
  }
  return "";
}

std::string normalized_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '(') break;  // comment
    if (c == ' ' || c == '\t' || c == '"' || c == '\r' || c == '\n') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  return out;
}

enum class Role { kTop, kPart, kEmbedded };

class Walker {
 public:
  Walker(const Limits& limits, Extracted& out)
      : lim_(limits), out_(out), html_budget_(limits.max_html_bytes) {}

  void entity(std::string_view raw, size_t depth, std::string_view default_type, Role role,
              Text& sink, size_t cap) {
    if (out_.parts >= lim_.max_parts) {
      out_.flags |= kTooManyParts;
      return;
    }
    ++out_.parts;
    const EntityHeader h = header_parse(raw, lim_.max_header_bytes, role == Role::kTop, out_.flags);
    const std::string_view body = raw.substr(h.body_offset);
    const FieldValue ct = field_parse(h.content_type);
    std::string type = ct.value;
    if (type.find('/') == std::string::npos) type = default_type;
    const std::string charset = field_param_raw(ct, "charset");
    const FieldValue cd = field_parse(h.disposition);
    const bool attachment = cd.value == "attachment";

    std::string name = field_param_text(cd, "filename", charset, out_.flags);
    if (name.empty()) name = field_param_text(ct, "name", charset, out_.flags);
    add_name(name);

    if (role == Role::kTop) {
      out_.subject = text_normalize(header_decode(h.subject, charset, out_.flags), false);
      const Address from = address_parse(h.from, charset, out_.flags);
      out_.from_name = text_normalize(from.name, false);
      out_.from_domain = text_normalize(from.domain, false);
    } else if (role == Role::kEmbedded && room_in(sink, cap) > 0) {
      // A forwarded message shows its subject; keep it as a line of its text.
      std::string subject = text_normalize(header_decode(h.subject, charset, out_.flags), false);
      subject.resize(utf8_cut(subject, room_in(sink, cap)));
      text_append_block(sink.text, subject);
    }

    const std::string cte = normalized_token(h.transfer_encoding);
    const size_t slash = type.find('/');
    const std::string_view major = std::string_view(type).substr(0, slash);
    const std::string_view minor = std::string_view(type).substr(slash + 1);
    if (major == "multipart") {
      multipart(body, minor, charset, cte, ct, depth, sink, cap);
    } else if (major == "message" && (minor == "rfc822" || minor == "global")) {
      if (depth + 1 > lim_.max_depth) {
        out_.flags |= kTooDeep;
        return;
      }
      entity(transfer_decode(body, cte), depth + 1, "text/plain", Role::kEmbedded, sink, cap);
    } else if (major == "text" && !attachment && is_readable_text(minor)) {
      text_part(body, minor == "html", charset, cte, sink, cap);
    }
  }

 private:
  static bool is_readable_text(std::string_view minor) {
    for (std::string_view other : {"rtf", "css", "javascript", "calendar", "vcard", "x-vcard",
                                   "xml", "csv", "x-vcalendar", "directory", "x-patch"}) {
      if (minor == other) return false;
    }
    return true;
  }

  void add_name(std::string_view raw_name) {
    if (raw_name.empty() || out_.attachment_names.size() >= lim_.max_parts) return;
    std::string name = text_normalize(raw_name, false);
    name.resize(utf8_cut(name, kMaxNameBytes));
    if (!name.empty()) out_.attachment_names.push_back(std::move(name));
  }

  // The body with its Content-Transfer-Encoding undone (a view into the arena or the input).
  std::string_view transfer_decode(std::string_view body, const std::string& cte) {
    if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary") return body;
    bool bad = false;
    if (cte == "base64") {
      arena_.push_back(base64_decode(body, bad));
      if (bad) out_.flags |= kBadBase64;
    } else if (cte == "quoted-printable") {
      arena_.push_back(quoted_printable_decode(body, bad));
      if (bad) out_.flags |= kBadQuotedPrintable;
    } else {
      out_.flags |= kUnknownTransferEncoding;
      return body;
    }
    return arena_.back();
  }

  void text_part(std::string_view body, bool html, const std::string& charset,
                 const std::string& cte, Text& sink, size_t cap) {
    const size_t room = room_in(sink, cap);
    if (room == 0) {
      if (!all_space(body)) sink.truncated = true;
      return;
    }
    const std::string_view bytes = transfer_decode(body, cte);
    std::string text;
    bool cut = false;
    if (html) {
      // All HTML parts of a message share one parser budget (gumbo runs at ~10-50 MB/s).
      if (html_budget_ == 0) {
        sink.truncated = true;
        return;
      }
      const std::string declared = charset.empty() ? html_meta_charset(bytes) : charset;
      const std::string utf8 = to_utf8(bytes, declared, out_.flags, html_budget_, &cut);
      html_budget_ -= std::min(html_budget_, utf8.size());
      bool full = false;
      text = html_to_text(utf8, room, out_.flags, &full);
      cut = cut || full;
    } else {
      // Normalising shrinks text, so convert a little more than fits, then cut.
      const size_t want = room + room / 2 + 1024;
      text = text_normalize(to_utf8(bytes, charset, out_.flags, want, &cut), true);
      if (text.size() > room) {
        text.resize(utf8_cut(text, room));
        cut = true;
      }
    }
    if (cut) sink.truncated = true;
    if (text.empty()) return;
    (html ? sink.html : sink.plain) = true;
    text_append_block(sink.text, text);
  }

  void multipart(std::string_view body, std::string_view minor, const std::string& charset,
                 const std::string& cte, const FieldValue& ct, size_t depth, Text& sink,
                 size_t cap) {
    if (depth + 1 > lim_.max_depth) {
      out_.flags |= kTooDeep;
      return;
    }
    std::string boundary = field_param_raw(ct, "boundary");
    while (!boundary.empty() && is_blank(boundary.back())) boundary.pop_back();
    if (boundary.empty() || boundary.size() > kMaxBoundary) {
      out_.flags |= kMissingBoundary;
      boundary = guess_boundary(body);
    }
    Split split;
    if (!boundary.empty()) split = split_multipart(body, boundary, lim_.max_parts);
    if (!split.found) {
      // No usable delimiter: what is there is best read as one plain text body.
      out_.flags |= kMissingBoundary;
      text_part(body, false, charset, cte, sink, cap);
      return;
    }
    if (!split.closed && split.parts.size() <= lim_.max_parts) {
      out_.flags |= kUnterminatedMultipart;
    }
    const std::string_view child_type = minor == "digest" ? "message/rfc822" : "text/plain";
    if (minor != "alternative") {
      for (std::string_view part : split.parts) {
        entity(part, depth + 1, child_type, Role::kPart, sink, cap);
      }
      return;
    }
    // multipart/alternative: the first plain text alternative with text, else the last one
    // with any text (HTML). Names are collected from every alternative.
    std::vector<Text> alternatives;
    alternatives.reserve(split.parts.size());
    const Text* chosen = nullptr;
    for (std::string_view part : split.parts) {
      // Once a plain text alternative is chosen the others are only walked for their names.
      alternatives.emplace_back();
      entity(part, depth + 1, child_type, Role::kPart, alternatives.back(),
             chosen == nullptr ? room_in(sink, cap) : 0);
      if (chosen == nullptr && alternatives.back().plain && !alternatives.back().text.empty()) {
        chosen = &alternatives.back();
      }
    }
    for (auto it = alternatives.rbegin(); chosen == nullptr && it != alternatives.rend(); ++it) {
      if (!it->text.empty()) chosen = &*it;
    }
    if (chosen == nullptr) return;
    text_append_block(sink.text, chosen->text);
    sink.plain = sink.plain || chosen->plain;
    sink.html = sink.html || chosen->html;
    sink.truncated = sink.truncated || chosen->truncated;
  }

  const Limits& lim_;
  Extracted& out_;
  std::deque<std::string> arena_;  // decoded bodies of message/rfc822 parts
  size_t html_budget_;             // UTF-8 bytes of HTML the parser may still read
};

void ensure_utf8(std::string& s, uint32_t& flags) {
  if (utf8_valid(s)) return;
  std::string clean;
  utf8_append_sanitized(clean, s);
  s = std::move(clean);
  flags |= kInternalError;
}

}  // namespace

const char* flag_name(int bit) {
  return bit >= 0 && bit < kFlagCount ? kFlagNames[static_cast<size_t>(bit)] : "";
}

std::vector<std::string> flag_names(uint32_t flags) {
  std::vector<std::string> names;
  for (int bit = 0; bit < kFlagCount; ++bit) {
    if ((flags & (1u << bit)) != 0) names.emplace_back(kFlagNames[static_cast<size_t>(bit)]);
  }
  return names;
}

std::string Extracted::model_text() const {
  std::string s;
  s.reserve(subject.size() + from_name.size() + from_domain.size() + body_text.size() + 64);
  s.append(subject).push_back('\n');
  s.append(from_name).push_back('\n');
  s.append(from_domain).push_back('\n');
  s.append(body_text).push_back('\n');
  for (size_t i = 0; i < attachment_names.size(); ++i) {
    if (i > 0) s.push_back(' ');
    s.append(attachment_names[i]);
  }
  return s;
}

Extracted extract(std::string_view raw, const Limits& limits) {
  Extracted out;
  try {
    if (raw.size() > limits.max_input_bytes) {
      raw = raw.substr(0, limits.max_input_bytes);
      out.flags |= kInputTruncated;
    }
    if (all_space(raw)) {
      out.flags |= kEmptyMessage;
      return out;
    }
    Walker walker(limits, out);
    Text root;
    walker.entity(raw, 0, "text/plain", Role::kTop, root, limits.max_body_text_bytes);
    out.body_text = std::move(root.text);
    if (out.body_text.size() > limits.max_body_text_bytes) {
      out.body_text.resize(utf8_cut(out.body_text, limits.max_body_text_bytes));
      root.truncated = true;
    }
    if (root.truncated) out.flags |= kBodyTextTruncated;
    if (root.html && !root.plain) out.flags |= kHtmlOnly;
    if (out.body_text.empty()) out.flags |= kNoTextBody;
  } catch (...) {  // std::bad_alloc, or a bug: keep what was extracted
    out.flags |= kInternalError;
  }
  ensure_utf8(out.subject, out.flags);
  ensure_utf8(out.from_name, out.flags);
  ensure_utf8(out.from_domain, out.flags);
  ensure_utf8(out.body_text, out.flags);
  for (std::string& name : out.attachment_names) ensure_utf8(name, out.flags);
  return out;
}

}  // namespace sf::mail
