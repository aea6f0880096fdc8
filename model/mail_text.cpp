// Whitespace normalisation: see mail_text.h for the contract.
#include "model/mail_text.h"

namespace sf::mail {

std::string text_normalize(std::string_view s, bool keep_lines) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  int newlines = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n' || c == '\r') {
      // CRLF, LF and a lone CR are one line break each.
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      ++i;
      if (keep_lines) {
        ++newlines;
      } else {
        space = true;
      }
      continue;
    }
    if (c < 0x20 || c == 0x7F || c == ' ') {
      space = true;
      ++i;
      continue;
    }
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      space = true;  // U+00A0 NO-BREAK SPACE
      i += 2;
      continue;
    }
    if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
        static_cast<unsigned char>(s[i + 2]) == 0xBF) {
      space = true;  // U+FEFF ZERO WIDTH NO-BREAK SPACE (stray byte order marks)
      i += 3;
      continue;
    }
    if (!out.empty()) {
      if (newlines >= 2) {
        out.append("\n\n");
      } else if (newlines == 1) {
        out.push_back('\n');
      } else if (space) {
        out.push_back(' ');
      }
    }
    newlines = 0;
    space = false;
    // Copy the whole (valid) UTF-8 sequence.
    size_t n = 1;
    if (c >= 0xF0) {
      n = 4;
    } else if (c >= 0xE0) {
      n = 3;
    } else if (c >= 0xC0) {
      n = 2;
    }
    if (i + n > s.size()) n = s.size() - i;
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

void text_append_block(std::string& text, std::string_view piece) {
  if (piece.empty()) return;
  if (!text.empty()) text.push_back('\n');
  text.append(piece);
}

}  // namespace sf::mail
