// HTML to the text a reader sees, with gumbo.
//
// What it does: parses UTF-8 HTML with gumbo (which decodes entities) and renders the text:
// script, style, head, template and comments are dropped; block elements give line breaks,
// table cells spaces; a link keeps its text AND its host name ("click here [evil.example]",
// also for mailto: links; an iframe gives the host of its src); an image gives its alt text;
// whitespace is collapsed.
// What it promises: valid UTF-8 out; work bounded in the input size, including on hostile
// tag soup: gumbo's tree builder is quadratic in the depth of its stack of open elements
// (20,000 nested <div>s take 10 s; random soup of <ol><rp> 20 s per MB), so a light model of
// that stack (and of the formatting elements it re-opens) runs first, and start tags that
// would nest deeper than kMaxHtmlDepth are removed before parsing (flag kHtmlFlattened; text
// is kept). The model errs on the deep side; measured worst case after it: ~0.5 s per MB of
// random soup, ~0.25 s per MB of the worst single-tag patterns. The tree walk is iterative.
// Output stops at `max_out` bytes. Never throws except std::bad_alloc.
// How it fails: broken HTML is the sender's fault and is rendered as gumbo repairs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sf::mail {

// Estimated nesting depth beyond which start tags are dropped before parsing.
inline constexpr size_t kMaxHtmlDepth = 128;

// Renders `html` (UTF-8) to normalised text (see mail_text.h), at most `max_out` bytes
// (`*truncated` says whether text was cut). ORs kHtmlFlattened into `flags` when needed.
std::string html_to_text(std::string_view html, size_t max_out, uint32_t& flags,
                         bool* truncated = nullptr);

// The host name of a link target, lower-cased ("http://User@WWW.Example.com:80/x" ->
// "www.example.com"; "mailto:a@b.example" -> "b.example"); "" when it names no host.
std::string url_host(std::string_view href);

// The charset named by a <meta charset=...> or <meta http-equiv content="...charset=...">
// near the start of an HTML document (first 4 KiB); "" if none.
std::string html_meta_charset(std::string_view html);

}  // namespace sf::mail
