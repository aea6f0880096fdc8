// Helpers for the mail extraction tests: message builders and an independent UTF-8 checker.
#pragma once

#include <iconv.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sf::mail::test {

// Strict UTF-8 check written independently of model/charset.cpp (so a bug there cannot hide).
inline bool is_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const unsigned min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// `utf8` encoded in `charset` with iconv (test fixture bytes); throws if not representable.
inline std::string encode(std::string_view utf8, const char* charset) {
  iconv_t cd = iconv_open(charset, "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv_open");
  std::string out(utf8.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* op = out.data();
  size_t out_left = out.size();
  const size_t r = iconv(cd, &in, &in_left, &op, &out_left);
  iconv(cd, nullptr, nullptr, &op, &out_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1)) throw std::runtime_error("not representable");
  out.resize(out.size() - out_left);
  return out;
}

inline std::string base64(std::string_view in, size_t line = 76) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kAlphabet[v & 63] : '=');
    col += 4;
    if (line != 0 && col >= line) {
      out.push_back('\n');
      col = 0;
    }
  }
  return out;
}

// A single-part message.
inline std::string simple_message(std::string_view content_type, std::string_view body,
                                  std::string_view extra_headers = "",
                                  std::string_view subject = "Hello") {
  std::string m = "From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: ";
  m += subject;
  m += "\nMIME-Version: 1.0\nContent-Type: ";
  m += content_type;
  m += "\n";
  m += extra_headers;
  m += "\n";
  m += body;
  return m;
}

}  // namespace sf::mail::test
