// address.cpp: see address.h.
#include "rules/address.h"

#include <arpa/inet.h>

#include <charconv>

#include "rules/errors.h"

namespace sf::rules {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Address normalize_address(std::string_view raw) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!raw.empty() && space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && space(raw.back())) raw.remove_suffix(1);
  if (raw.size() >= 2 && raw.front() == '<' && raw.back() == '>')
    raw = raw.substr(1, raw.size() - 2);
  Address a;
  if (raw.empty()) return a;
  a.is_null = false;
  a.address = lower_ascii(raw);
  auto at = a.address.rfind('@');
  if (at != std::string::npos) a.domain = a.address.substr(at + 1);
  return a;
}

bool is_subdomain(std::string_view domain, std::string_view parent) {
  return domain.size() > parent.size() + 1 && domain.ends_with(parent) &&
         domain[domain.size() - parent.size() - 1] == '.';
}

namespace {

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  for (char c : d) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return false;
  }
  return d.find("..") == std::string_view::npos;
}

bool valid_local(std::string_view l) {
  if (l.empty() || l.size() > 64) return false;
  for (char c : l) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '@')
      return false;
  }
  return true;
}

}  // namespace

AddressPattern AddressPattern::parse(std::string_view s) {
  AddressPattern p;
  if (s == "<>") {
    p.kind = Kind::null_sender;
    return p;
  }
  std::string t = lower_ascii(s);
  if (t.starts_with("*.")) {
    p.kind = Kind::subdomains;
    p.text = t.substr(2);
    if (!valid_domain(p.text)) throw RuleError("bad domain pattern '" + std::string(s) + "'");
    return p;
  }
  if (t.starts_with("@")) t.erase(0, 1);
  auto at = t.rfind('@');
  if (at == std::string::npos) {
    p.kind = Kind::domain;
    p.text = t;
    if (!valid_domain(t)) {
      throw RuleError("bad address or domain '" + std::string(s) +
                      "' (expected user@example.com, example.com, *.example.com or <>)");
    }
    return p;
  }
  p.kind = Kind::address;
  p.text = t;
  if (!valid_local(std::string_view(t).substr(0, at)) ||
      !valid_domain(std::string_view(t).substr(at + 1))) {
    throw RuleError("bad address '" + std::string(s) + "'");
  }
  return p;
}

bool AddressPattern::matches(const Address& a) const {
  switch (kind) {
    case Kind::null_sender:
      return a.is_null;
    case Kind::address:
      return a.address == text;
    case Kind::domain:
      return !a.is_null && a.domain == text;
    case Kind::subdomains:
      return !a.is_null && is_subdomain(a.domain, text);
  }
  return false;
}

std::string AddressPattern::str() const {
  switch (kind) {
    case Kind::null_sender:
      return "<>";
    case Kind::subdomains:
      return "*." + text;
    default:
      return text;
  }
}

std::optional<IpAddress> IpAddress::parse(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 45) return std::nullopt;
  std::string text(s);
  IpAddress ip;
  if (text.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, ip.bytes.begin())) {
    IpAddress v4;
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
    return v4;
  }
  ip.v6 = true;
  return ip;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Cidr Cidr::parse(std::string_view s) {
  auto slash = s.find('/');
  auto ip = IpAddress::parse(s.substr(0, slash));
  if (!ip) throw RuleError("bad IP address or network '" + std::string(s) + "'");
  Cidr c;
  c.net = *ip;
  int max = ip->v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    auto len = s.substr(slash + 1);
    int n = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (ec != std::errc() || end != len.data() + len.size() || n < 0 || n > max) {
      throw RuleError("bad prefix length in '" + std::string(s) + "' (0.." + std::to_string(max) +
                      ")");
    }
    c.prefix = n;
  }
  for (int bit = c.prefix; bit < max; ++bit) {
    if (c.net.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      Cidr fixed = c;
      for (int b = c.prefix; b < max; ++b) fixed.net.bytes[b / 8] &= ~(0x80 >> (b % 8));
      throw RuleError("network '" + std::string(s) + "' has host bits set; did you mean '" +
                      fixed.str() + "'?");
    }
  }
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v6 != net.v6) return false;
  int full = prefix / 8;
  if (!std::equal(net.bytes.begin(), net.bytes.begin() + full, ip.bytes.begin())) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == net.bytes[full];
}

std::string Cidr::str() const {
  std::string s = net.str();
  if (prefix != (net.v6 ? 128 : 32)) s += "/" + std::to_string(prefix);
  return s;
}

bool looks_like_ip(std::string_view s) {
  return IpAddress::parse(s.substr(0, s.find('/'))).has_value();
}

}  // namespace sf::rules
