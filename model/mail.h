// Mail to text: what a reader of a raw RFC 822 message sees, as the model's input.
//
// What it does: extract() cuts the raw message at Limits::max_input_bytes, splits the MIME tree
// (multipart and message/rfc822, boundaries matched on whole lines only, top-down so a broken
// inner part cannot swallow its outer siblings), undoes base64 / quoted-printable, converts
// every charset to UTF-8 (iconv, uchardet when the label is missing or wrong), renders HTML
// with gumbo, and decodes RFC 2047 / RFC 2231 header texts.
// What it reads: ONLY Subject, From, Content-Type, Content-Transfer-Encoding and
// Content-Disposition. Headers that upstream filters add (X-Spam-*, X-Virus-*,
// Authentication-Results, Received-SPF, ...) are never stored, so they cannot reach
// model_text(): senders forge them, and in training corpora they give the label away.
// What it promises: every string in the result is valid UTF-8; work and memory are bounded by
// the Limits (linear in max_input_bytes; no recursion deeper than max_depth); it never throws
// on any input (std::bad_alloc is caught too) and keeps whatever could be extracted.
// How it fails: problems are reported as flags (model/mail_flags.h), nearly all the sender's
// fault; a limit that cuts legitimate mail is configuration. kInternalError means a bug here.
//
// Why not mimetic's MimeEntity parser: measured on mimetic 0.9.8, it matches boundaries
// anywhere inside a line, lets an unterminated inner multipart swallow the rest of the message,
// splits `boundary="a;b"` at the ';', appends header fields in 128-byte steps (a 2 MB field
// takes 1.5 s), and its quoted-printable decoder drops line breaks after trailing blanks on
// LF-only mail. The structure walk, header fields and quoted-printable are therefore our own;
// mimetic decodes base64 (model/mail_codec.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/mail_flags.h"

namespace sf::mail {

struct Limits {
  size_t max_input_bytes =
      2 << 20;  // bytes of the raw message parsed; rest ignored (kInputTruncated)
  size_t max_body_text_bytes = 64 << 10;  // UTF-8 bytes of body text kept (kBodyTextTruncated)
  size_t max_parts = 100;                 // MIME parts visited (kTooManyParts)
  size_t max_depth = 8;                   // nested multipart/message levels (kTooDeep)
  size_t max_header_bytes = 64 << 10;     // per header field (kHeaderTruncated)
  size_t max_html_bytes = 1 << 20;        // UTF-8 bytes of HTML given to the parser, all parts of
                                          // a message together (kBodyTextTruncated)
};

// The Flag bits and flag_names() are declared in model/mail_flags.h.

struct Extracted {
  std::string subject;      // decoded (RFC 2047), UTF-8, whitespace-collapsed
  std::string from_name;    // display name of From, decoded, whitespace-collapsed
  std::string from_domain;  // lower-cased domain of the From address
  std::string body_text;    // UTF-8 text of every text part, HTML rendered to text; parts joined
                            // by "\n"; blanks collapsed, at most one blank line in a row
  std::vector<std::string> attachment_names;  // decoded file names (RFC 2047 / RFC 2231)
  uint32_t flags = 0;
  size_t parts = 0;  // MIME parts seen (the message itself counts as one)

  // What the tokenizer reads, in this order, each followed by "\n" except the last:
  //   subject, from_name, from_domain, body_text, attachment names (joined by single spaces).
  // Empty fields give empty lines, so the layout never depends on which fields are present.
  std::string model_text() const;
};

// Extracts the text of `raw` (a whole RFC 822 message: header, empty line, body). Never throws.
Extracted extract(std::string_view raw, const Limits& limits = {});

}  // namespace sf::mail
