// Mail header fields: the header block of an entity, RFC 2045/2231 parameters, RFC 2047
// encoded words and the From address.
//
// What it does: splits an entity (a message or a MIME part) into its header block and body and
// keeps ONLY the few fields extraction needs: Subject, From, Content-Type,
// Content-Transfer-Encoding, Content-Disposition. Every other field (Received, X-Spam-*,
// Authentication-Results, ...) is skipped while scanning and never stored, so no upstream
// verdict header can reach the model by construction.
// What it promises: linear work, bounded field sizes (max_field_bytes), no exceptions on bad
// input (only std::bad_alloc), and decoded text that is valid UTF-8.
// How it fails: malformed headers are the sender's fault and are reported as flags
// (model/mail_flags.h): kMalformedHeader, kHeaderTruncated, kNulInHeaders, kBadEncodedWord,
// kEightBitHeaders and the charset flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sf::mail {

// The fields of one header block that extraction reads (raw bytes, unfolded; first occurrence).
struct EntityHeader {
  std::string subject;
  std::string from;
  std::string content_type;
  std::string transfer_encoding;
  std::string disposition;
  bool has_subject = false;
  bool has_from = false;
  size_t body_offset = 0;  // the body starts here in the entity
};

// Parses the header block at the start of `entity`. It ends at the first empty line (or a line
// of blanks), or at the first line that is neither a field nor a continuation (that line is the
// first body line; flag kMalformedHeader). With `skip_mbox_from`, a leading mbox "From " line is
// skipped. NUL bytes in kept fields become spaces (kNulInHeaders); a field is cut at
// max_field_bytes (kHeaderTruncated).
EntityHeader header_parse(std::string_view entity, size_t max_field_bytes, bool skip_mbox_from,
                          uint32_t& flags);

// A structured field value: "type/subtype; name=value; ..." (Content-Type) or
// "disposition; name=value" (Content-Disposition).
struct FieldValue {
  std::string value;  // lower-cased, comments and blanks removed ("text/plain", "attachment")
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, values unquoted
};

// Parses a structured field (RFC 2045): quoted strings with backslash escapes may hold ';'.
FieldValue field_parse(std::string_view raw);

// The parameter as written (after unquoting): use for boundary and charset. "" if absent.
std::string field_param_raw(const FieldValue& field, std::string_view name);

// The parameter as text: RFC 2231 continuations and charsets ("name*0*=utf-8''%E2%82%AC"),
// then RFC 2047 encoded words (common in practice though not allowed there), as UTF-8.
std::string field_param_text(const FieldValue& field, std::string_view name,
                             std::string_view fallback_charset, uint32_t& flags);

// Decodes a header text: RFC 2047 encoded words (B and Q, any charset; whitespace between
// adjacent encoded words dropped; adjacent words of one charset joined before conversion so a
// character split across words survives), raw 8-bit bytes read as UTF-8 if valid, else as
// `fallback_charset`, else detected. Returns valid UTF-8, whitespace not collapsed.
std::string header_decode(std::string_view raw, std::string_view fallback_charset, uint32_t& flags);

// The first address of a From field: its display name (decoded, unquoted) and lower-cased domain.
struct Address {
  std::string name;
  std::string domain;
};
Address address_parse(std::string_view raw, std::string_view fallback_charset, uint32_t& flags);

}  // namespace sf::mail
