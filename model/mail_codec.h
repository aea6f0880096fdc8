// Content transfer decodings of mail: base64, quoted-printable, and RFC 2047 "Q".
//
// What it does: turns encoded bodies and encoded-word text back into bytes (charset untouched).
// What it promises: never throws on bad input, never aborts: invalid characters are skipped
// (base64) or kept literally (quoted-printable, Q), and `bad` is set so the caller can flag the
// message. Output size is at most the input size; work is linear.
// How it fails: malformed encodings are the sender's fault (flags kBadBase64,
// kBadQuotedPrintable, kBadEncodedWord in model/mail_flags.h).
#pragma once

#include <string>
#include <string_view>

namespace sf::mail {

// Decodes base64 (RFC 2045): whitespace ignored; characters outside the alphabet are skipped;
// a final incomplete quantum is decoded as far as it goes. `bad` is set (never cleared) for
// invalid characters, a truncated final quantum, or excess padding.
std::string base64_decode(std::string_view in, bool& bad);

// Decodes quoted-printable (RFC 2045): "=XX" escapes (either hex case), soft line breaks
// ("=" at the end of a line), trailing blanks of lines dropped; CRLF becomes LF. An "=" not
// followed by two hex digits or a line break is kept literally and sets `bad`.
std::string quoted_printable_decode(std::string_view in, bool& bad);

// Decodes the "Q" encoding of RFC 2047 encoded words: '_' is a space, "=XX" an escape.
std::string q_decode(std::string_view in, bool& bad);

}  // namespace sf::mail
