// test_rules_util.cpp: the building blocks of the rules module: SHA-256
// against the FIPS 180-4 vectors, address and network patterns, the action
// table and the validation messages that name the bad value.
#include <gtest/gtest.h>

#include <string>

#include "rules/address.h"
#include "rules/errors.h"
#include "rules/rule.h"
#include "rules/sha256.h"
#include "rules/text.h"

namespace sf::rules {
namespace {

TEST(RulesSha256, MatchesFipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 s;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) s.update(chunk);
  std::string hex;
  for (uint8_t b : s.finish()) {
    hex += "0123456789abcdef"[b >> 4];
    hex += "0123456789abcdef"[b & 15];
  }
  EXPECT_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(RulesSha256, SplitUpdatesEqualOneUpdate) {
  std::string text(200, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  for (size_t cut : {0, 1, 55, 56, 63, 64, 65, 128, 199}) {
    Sha256 s;
    s.update(std::string_view(text).substr(0, cut));
    s.update(std::string_view(text).substr(cut));
    Sha256 whole;
    whole.update(text);
    EXPECT_EQ(s.finish(), whole.finish()) << cut;
  }
}

TEST(RulesSha256, MessageIdHashIgnoresBracketsAndSpace) {
  EXPECT_EQ(message_id_hash("<abc@example.com>"), sha256_hex("abc@example.com"));
  EXPECT_EQ(message_id_hash("  <abc@example.com>\r\n"), sha256_hex("abc@example.com"));
  EXPECT_EQ(message_id_hash("abc@example.com"), sha256_hex("abc@example.com"));
  EXPECT_EQ(message_id_hash(""), "");
  EXPECT_NE(message_id_hash("<ABC@example.com>"), message_id_hash("<abc@example.com>"));
}

TEST(RulesAddress, NormalizesEnvelopeAddresses) {
  auto a = normalize_address(" <Bob@Example.COM> ");
  EXPECT_FALSE(a.is_null);
  EXPECT_EQ(a.address, "bob@example.com");
  EXPECT_EQ(a.domain, "example.com");
  EXPECT_TRUE(normalize_address("<>").is_null);
  EXPECT_TRUE(normalize_address("").is_null);
}

TEST(RulesAddress, PatternsMatchTheirKindOnly) {
  auto bob = normalize_address("bob@mail.example.com");
  EXPECT_TRUE(AddressPattern::parse("BOB@mail.example.com").matches(bob));
  EXPECT_TRUE(AddressPattern::parse("mail.example.com").matches(bob));
  EXPECT_TRUE(AddressPattern::parse("@mail.example.com").matches(bob));
  EXPECT_FALSE(AddressPattern::parse("example.com").matches(bob));
  EXPECT_TRUE(AddressPattern::parse("*.example.com").matches(bob));
  EXPECT_FALSE(AddressPattern::parse("*.example.com").matches(normalize_address("a@example.com")));
  EXPECT_FALSE(
      AddressPattern::parse("*.example.com").matches(normalize_address("a@badexample.com")));
  EXPECT_TRUE(AddressPattern::parse("<>").matches(normalize_address("<>")));
  EXPECT_FALSE(AddressPattern::parse("<>").matches(bob));
  EXPECT_FALSE(AddressPattern::parse("example.com").matches(normalize_address("<>")));
  EXPECT_THROW(AddressPattern::parse("bad domain"), RuleError);
  EXPECT_THROW(AddressPattern::parse("@"), RuleError);
  EXPECT_THROW(AddressPattern::parse("a@@b"), RuleError);
}

TEST(RulesAddress, CidrV4V6AndMapped) {
  auto net = Cidr::parse("192.0.2.0/24");
  EXPECT_TRUE(net.contains(*IpAddress::parse("192.0.2.200")));
  EXPECT_FALSE(net.contains(*IpAddress::parse("192.0.3.1")));
  EXPECT_TRUE(net.contains(*IpAddress::parse("::ffff:192.0.2.7")));  // IPv4-mapped
  auto odd = Cidr::parse("10.0.0.0/9");
  EXPECT_TRUE(odd.contains(*IpAddress::parse("10.127.255.255")));
  EXPECT_FALSE(odd.contains(*IpAddress::parse("10.128.0.0")));
  auto v6 = Cidr::parse("2001:DB8::/32");
  EXPECT_EQ(v6.str(), "2001:db8::/32");
  EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db9::1")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("192.0.2.1")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0").contains(*IpAddress::parse("203.0.113.9")));
  EXPECT_EQ(Cidr::parse("192.0.2.1").str(), "192.0.2.1");
  EXPECT_TRUE(Cidr::parse("192.0.2.1").contains(*IpAddress::parse("192.0.2.1")));
  EXPECT_FALSE(Cidr::parse("192.0.2.1").contains(*IpAddress::parse("192.0.2.2")));
  try {
    Cidr::parse("192.0.2.1/24");
    FAIL() << "host bits accepted";
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean '192.0.2.0/24'"), std::string::npos);
  }
  EXPECT_THROW(Cidr::parse("192.0.2.0/33"), RuleError);
  EXPECT_THROW(Cidr::parse("300.0.0.1"), RuleError);
  EXPECT_FALSE(IpAddress::parse("example.com"));
}

TEST(RulesAction, TableNamesRoundTrip) {
  ASSERT_EQ(action_table().size(), 10u);
  for (size_t i = 0; i < action_table().size(); ++i) {
    const auto& info = action_table()[i];
    EXPECT_EQ(static_cast<size_t>(info.kind), i) << info.name;
    std::string text(info.name);
    if (info.needs_arg) text += info.kind == ActionKind::add_header ? " X-A: b" : " Arg";
    if (info.kind == ActionKind::flag) text = "flag $Arg";
    Action a = Action::parse(text);
    EXPECT_EQ(a.kind, info.kind) << text;
    EXPECT_EQ(Action::parse(a.str()), a) << text;
  }
}

TEST(RulesAction, ArgumentsAreCheckedAndCanonical) {
  EXPECT_EQ(Action::parse("reject").arg, "Message refused by local policy");
  EXPECT_EQ(Action::parse("tempfail").arg, "Try again later");
  EXPECT_EQ(Action::parse("add_header   X-Foo:bar ").str(), "add-header X-Foo: bar");
  EXPECT_EQ(Action::parse("flag \\flagged").arg, "\\Flagged");
  EXPECT_EQ(Action::parse("Move Junk/Sub").str(), "move Junk/Sub");
  EXPECT_THROW(Action::parse("move"), RuleError);
  EXPECT_THROW(Action::parse("accept now"), RuleError);
  EXPECT_THROW(Action::parse("flag \\Deleted"), RuleError);
  EXPECT_THROW(Action::parse("flag bad(keyword"), RuleError);
  EXPECT_THROW(Action::parse("add-header NoColon"), RuleError);
  EXPECT_THROW(Action::parse("reject caf\xc3\xa9"), RuleError);
  try {
    Action::parse("explode");
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown action 'explode'"), std::string::npos);
  }
}

Rule simple_rule() {
  Rule r;
  r.actions = {Action::parse("accept")};
  return r;
}

TEST(RulesValidate, BadValuesAreNamed) {
  auto expect_error = [](Rule r, const std::string& needle) {
    try {
      normalize(r);
      ADD_FAILURE() << "accepted, expected: " << needle;
    } catch (const RuleError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Rule r = simple_rule();
  r.match.probability = Band{0.9, 0.5};
  expect_error(r, "probability band [0.9, 0.5) is empty");
  r = simple_rule();
  r.match.probability = Band{1.5, 2};
  expect_error(r, "1.5");
  r = simple_rule();
  r.actions.push_back(Action::parse("move Junk"));
  expect_error(r, "at most one of");
  r = simple_rule();
  r.actions = {Action::parse("reject"), Action::parse("add-header X: y")};
  expect_error(r, "no effect");
  r = simple_rule();
  r.actions.push_back(Action::parse("skip-model"));
  r.match.probability = Band{0.5, 1};
  expect_error(r, "skip-model cannot be combined");
  r = simple_rule();
  r.match.headers = {{"Subject", "([", true, false}};
  expect_error(r, "bad regex '(['");
  r = simple_rule();
  r.match.list = "block";
  expect_error(r, "consulted before every rule");
  r = simple_rule();
  r.scope = Scope::user;
  r.key = "example.com";
  expect_error(r, "user scope needs an address");
  r = simple_rule();
  r.match.size_min = 10;
  r.match.size_max = 10;
  expect_error(r, "size range [10, 10) is empty");
  r = simple_rule();
  r.actions.clear();
  expect_error(r, "at least one action");
  r = simple_rule();
  r.id = 7;
  r.match.client_ip = {"10.1.2.3/8"};
  expect_error(r, "rule 7: network '10.1.2.3/8' has host bits set");
}

TEST(RulesValidate, JsonRejectsUnknownKeysAndRoundTrips) {
  auto j = nlohmann::json::parse(R"({"id": 3, "domain": "Example.com", "priority": 5,
    "match": {"sender": ["*.Partner.example"], "probability": [0.8, 1.0],
              "headers": [{"name": "List-Id", "regex": "^<news", "nocase": true}]},
    "actions": ["move News", "add-header X-Rule: {rule}"]})");
  Rule r = normalize(rule_from_json(j));
  EXPECT_EQ(r.key, "example.com");
  EXPECT_EQ(r.match.sender[0], "*.partner.example");
  EXPECT_EQ(normalize(rule_from_json(to_json(r))), r);
  j["match"]["sendr"] = "x";
  try {
    rule_from_json(j);
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'sendr'"), std::string::npos);
  }
}

TEST(RulesText, NumbersAreShortestExact) {
  EXPECT_EQ(format_number(0.9), "0.9");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_probability(0.12345f), "0.1235");
  EXPECT_EQ(format_probability(1.0f), "1.0000");
  EXPECT_FALSE(parse_double("0.9x"));
  EXPECT_FALSE(parse_int("12 "));
  EXPECT_EQ(*parse_bool("yes"), true);
}

}  // namespace
}  // namespace sf::rules
