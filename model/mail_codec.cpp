// Content transfer decodings: see mail_codec.h for the contract.
#include "model/mail_codec.h"

#include <mimetic/codec/base64.h>
#include <mimetic/codec/code.h>

#include <iterator>

namespace sf::mail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// True when `in` is well-formed base64 (RFC 2045), allowing whitespace anywhere and several
// padded blobs one after another (some encoders concatenate them).
bool base64_well_formed(std::string_view in) {
  size_t count = 0;  // alphabet characters of the current blob
  size_t pad = 0;
  for (char c : in) {
    if (is_base64_char(c)) {
      if (pad > 0) {  // data after padding: acceptable only if the previous blob was complete
        if ((count + pad) % 4 != 0) return false;
        count = 0;
        pad = 0;
      }
      ++count;
    } else if (c == '=') {
      if (++pad > 2) return false;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return false;
    }
  }
  if (pad > 0 && count % 4 == 0) return false;  // "====" style padding without data
  return (count + pad) % 4 == 0;
}

}  // namespace

std::string base64_decode(std::string_view in, bool& bad) {
  if (!base64_well_formed(in)) bad = true;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  mimetic::Base64::Decoder decoder;
  mimetic::decode(in.begin(), in.end(), decoder, std::back_inserter(out));
  return out;
}

std::string quoted_printable_decode(std::string_view in, bool& bad) {
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    size_t eol = in.find('\n', pos);
    const bool has_newline = eol != std::string_view::npos;
    if (!has_newline) eol = in.size();
    std::string_view line = in.substr(pos, eol - pos);
    pos = has_newline ? eol + 1 : in.size();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool soft = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c != '=') {
        out.push_back(c);
        continue;
      }
      if (i + 1 == line.size()) {  // soft line break
        soft = true;
        break;
      }
      const int hi = i + 2 < line.size() ? hex_value(line[i + 1]) : -1;
      const int lo = i + 2 < line.size() ? hex_value(line[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        bad = true;
        out.push_back('=');
      }
    }
    if (has_newline && !soft) out.push_back('\n');
  }
  return out;
}

std::string q_decode(std::string_view in, bool& bad) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '_') {
      out.push_back(' ');
    } else if (c == '=') {
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        bad = true;
        out.push_back('=');
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace sf::mail
