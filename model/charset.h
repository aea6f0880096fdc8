// Charsets: bytes in a declared (or missing, or wrong) charset to valid UTF-8.
//
// What it does: canonicalises MIME charset labels to iconv names (WHATWG-style supersets:
// iso-8859-1 is read as windows-1252, gb2312 as GB18030, shift_jis as CP932, euc-kr as CP949),
// converts with iconv, and falls back to uchardet detection when the label is missing, unknown
// to iconv, or wrong for the bytes.
// What it promises: every string it returns is valid UTF-8, whatever the input; it never throws
// on bad input and never aborts a conversion: bytes that no charset explains become U+FFFD.
// Conversions and detection are thread-safe (iconv descriptors and the detector are cached per
// thread). Work is linear in the input and stops once `max_out` bytes of output are produced.
// How it fails: a wrong or unknown label is the sender's fault and is reported through flags
// (kUnknownCharset, kCharsetDetected, kInvalidUtf8 of model/mail_flags.h), never by exceptions.
//
// Decision on declared single-byte charsets (ASCII, ISO-8859-*, windows-*, KOI8-*): bytes that
// are valid UTF-8 and contain multi-byte sequences are read as UTF-8 (flag kCharsetDetected).
// Real Latin-1/KOI8 text is almost never valid UTF-8, while mislabelled UTF-8 is common.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sf::mail {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool utf8_valid(std::string_view s);

// Appends `s` to `out`, each maximal invalid subsequence replaced by U+FFFD; returns how many
// replacements were made.
size_t utf8_append_sanitized(std::string& out, std::string_view s);

// Largest n <= max such that s[0, n) does not end inside a UTF-8 sequence (s assumed valid).
size_t utf8_cut(std::string_view s, size_t max);

// The iconv name for a MIME charset label ("ISO-8859-1" -> "WINDOWS-1252"); "" for an empty
// label. Comments, quotes, RFC 2231 language suffixes ("utf-8*en") and case are ignored.
// Labels with characters that cannot be a charset name (e.g. '/') give "?" (never valid).
std::string charset_canonical(std::string_view label);

// Detected charset of `bytes` as a canonical iconv name, or "" when the detector has no
// opinion (or only says ASCII). Looks at the first 64 KiB.
std::string charset_detect(std::string_view bytes);

// Converts `bytes`, declared as charset `declared` ("" when not declared), to UTF-8. ORs
// kUnknownCharset / kCharsetDetected / kInvalidUtf8 into `flags`. Output is cut (on a character
// boundary) at `max_out` bytes; `*truncated` (if given) tells whether anything was cut.
// A leading byte order mark is dropped.
std::string to_utf8(std::string_view bytes, std::string_view declared, uint32_t& flags,
                    size_t max_out = std::numeric_limits<size_t>::max(), bool* truncated = nullptr);

}  // namespace sf::mail
