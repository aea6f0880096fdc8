// Problem flags of mail extraction: one bit per kind of problem found in a message.
//
// What it does: names every way a message can be malformed, oversized or ambiguous, so that
// extraction can go on with a best effort and still say what was wrong. The bit values and
// the snake_case names are stable: they are logged, stored with verdicts and read by rules.
// Nearly every flag is the sender's fault (broken or hostile mail); kInputTruncated,
// kBodyTextTruncated, kTooManyParts and kTooDeep can also mean that a configured limit is set
// too low for legitimate mail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sf::mail {

enum Flag : uint32_t {
  kInputTruncated = 1u << 0,         // message longer than Limits::max_input_bytes; rest ignored
  kBodyTextTruncated = 1u << 1,      // body text cut at Limits::max_body_text_bytes
  kTooManyParts = 1u << 2,           // more MIME parts than Limits::max_parts; rest not visited
  kTooDeep = 1u << 3,                // nesting deeper than Limits::max_depth; inner parts skipped
  kMissingBoundary = 1u << 4,        // multipart without a (usable) boundary parameter
  kUnterminatedMultipart = 1u << 5,  // multipart body without its closing delimiter
  kBadBase64 = 1u << 6,              // invalid characters or a truncated base64 body
  kBadQuotedPrintable = 1u << 7,     // '=' not followed by two hex digits or a line break
  kBadEncodedWord = 1u << 8,         // malformed RFC 2047 encoded word (kept as literal text)
  kUnknownCharset = 1u << 9,         // declared charset name that iconv does not know
  kCharsetDetected = 1u << 10,       // charset missing or wrong; the one used was detected
  kInvalidUtf8 = 1u << 11,           // bytes no charset explained; replaced by U+FFFD
  kNulInHeaders = 1u << 12,          // NUL bytes in header fields (replaced by spaces)
  kEmptyMessage = 1u << 13,          // no bytes, or only whitespace
  kNoTextBody = 1u << 14,            // no text/plain or text/html part with any text
  kHtmlOnly = 1u << 15,              // the body text came from HTML only (no plain text part)
  kMalformedHeader = 1u << 16,       // a header line that is not a field; the body starts there
  kHeaderTruncated = 1u << 17,       // a header field longer than Limits::max_header_bytes
  kUnknownTransferEncoding = 1u << 18,  // Content-Transfer-Encoding not 7bit/8bit/binary/b64/qp
  kHtmlFlattened = 1u << 19,            // HTML nested too deeply; inner tags dropped before parsing
  kEightBitHeaders = 1u << 20,          // raw 8-bit header bytes that are not UTF-8
  kInternalError = 1u << 21,            // an exception escaped extraction: a bug, please report
};

// Number of defined flag bits (bits above it are never set).
inline constexpr int kFlagCount = 22;

// Stable snake_case names of the bits set in `flags`, lowest bit first ("input_truncated").
std::vector<std::string> flag_names(uint32_t flags);

// Name of one flag bit (0 <= bit < kFlagCount); "" for an undefined bit.
const char* flag_name(int bit);

}  // namespace sf::mail
