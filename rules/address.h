// address.h: the envelope values rules match on: mail addresses, domain
// patterns, IPv4/IPv6 addresses and CIDR networks.
//
// Promises: addresses and domains are compared case-insensitively (they are
// lower-cased once); IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are treated
// as the IPv4 address, so IPv4 networks match them.
// Failure: the parse_* functions throw RuleError naming the bad text (the
// administrator's fault); normalize_address never fails (peer input is
// matched as given, never rejected here).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sf::rules {

std::string lower_ascii(std::string_view s);

// An envelope address, lower-cased, without angle brackets. The null
// reverse-path ("<>" or empty) has is_null set and empty address/domain.
struct Address {
  std::string address;  // "bob@example.com"
  std::string domain;   // "example.com" (after the last '@'; empty if none)
  bool is_null = true;
};
Address normalize_address(std::string_view raw);

// A pattern for a sender or recipient: "<>" (the null sender), an address
// "bob@example.com", a domain "example.com" (that domain only; "@example.com"
// is the same), or "*.example.com" (any subdomain of example.com, not the
// domain itself).
struct AddressPattern {
  enum class Kind { null_sender, address, domain, subdomains };
  Kind kind = Kind::domain;
  std::string text;  // lower-cased address or domain (without "*.")

  static AddressPattern parse(std::string_view s);  // throws RuleError
  bool matches(const Address& a) const;
  std::string str() const;  // the canonical written form
};

// True if domain is a strict subdomain of parent ("a.b.com" of "b.com").
bool is_subdomain(std::string_view domain, std::string_view parent);

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: bytes[0..3]

  // Parses dotted IPv4 or IPv6 text (brackets allowed); nullopt if invalid.
  static std::optional<IpAddress> parse(std::string_view s);
  std::string str() const;
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress net;
  int prefix = 0;  // 0..32 or 0..128

  // "192.0.2.0/24", "2001:db8::/32", or a single address (full prefix).
  // Host bits set ("192.0.2.1/24") is an error: it usually hides a typo.
  static Cidr parse(std::string_view s);  // throws RuleError
  bool contains(const IpAddress& ip) const;
  std::string str() const;
};

// True if s parses as an IP address or CIDR network.
bool looks_like_ip(std::string_view s);

}  // namespace sf::rules
