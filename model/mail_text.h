// Whitespace normalisation of extracted mail text (UTF-8 in, UTF-8 out).
//
// What it does: makes the text the model reads independent of how the sender laid it out:
// CR/LF variants, tabs, control characters, no-break spaces and runs of blanks all collapse.
// What it promises: valid UTF-8 in gives valid UTF-8 out; linear time; never throws except
// std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

namespace sf::mail {

// Collapses every run of whitespace (ASCII blanks and controls, U+00A0, U+FEFF) to one space
// and trims both ends. With `keep_lines`, line breaks survive: a run that holds one line break
// becomes "\n", a run with two or more becomes "\n\n" (at most one blank line).
std::string text_normalize(std::string_view utf8, bool keep_lines);

// Appends `piece` to `text`, separated by a single "\n" when both are non-empty.
void text_append_block(std::string& text, std::string_view piece);

}  // namespace sf::mail
