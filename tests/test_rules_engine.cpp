// test_rules_engine.cpp: evaluation: the default bands and their edges,
// thresholds per scope, precedence (block over allow over rules; user over
// domain over global; priority), list behaviour, every condition, every
// action's mapping into the decision, and the before-the-model decision.
#include <gtest/gtest.h>

#include <cmath>

#include "rules/errors.h"
#include "rules/evaluate.h"
#include "rules/rule_set.h"

namespace sf::rules {
namespace {

float below(float x) { return std::nextafter(x, 0.0f); }

Context ctx_for(std::string to, std::optional<float> p, std::string from = "alice@sender.example") {
  Context c;
  c.sender = std::move(from);
  c.recipient = std::move(to);
  c.probability = p;
  c.size = 2000;
  return c;
}

Rule rule(int64_t id, std::vector<std::string> actions, Scope scope = Scope::global,
          std::string key = "", int priority = 100) {
  Rule r;
  r.id = id;
  r.scope = scope;
  r.key = std::move(key);
  r.priority = priority;
  for (const auto& a : actions) r.actions.push_back(Action::parse(a));
  return r;
}

std::vector<std::string> strs(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.str());
  return out;
}

TEST(RulesBands, DefaultsAndEdgesInclusiveAtTheLowerBound) {
  auto rs = RuleSet::build({});
  struct Case {
    float p;
    const char* band;
  } cases[] = {{0.0f, "ham"},     {below(0.5f), "ham"},     {0.5f, "suspect"},
               {0.7f, "suspect"}, {below(0.9f), "suspect"}, {0.9f, "spam"},
               {1.0f, "spam"}};
  for (const auto& c : cases) {
    Decision d = evaluate(ctx_for("bob@example.com", c.p), *rs);
    EXPECT_EQ(d.band, c.band) << "p=" << c.p;
    EXPECT_EQ(d.rule_id, std::string("default:") + c.band);
  }
}

TEST(RulesBands, EachBandMapsToTheBriefsActions) {
  auto rs = RuleSet::build({});
  EXPECT_EQ(strs(evaluate(ctx_for("bob@example.com", 0.9f), *rs).actions),
            (std::vector<std::string>{"move Junk", "add-header X-Spamformer-Status: spam",
                                      "add-header X-Spamformer-Probability: 0.9000",
                                      "add-header X-Spam-Flag: YES"}));
  EXPECT_EQ(strs(evaluate(ctx_for("bob@example.com", 0.5f), *rs).actions),
            (std::vector<std::string>{"flag $Suspect", "add-header X-Spamformer-Status: suspect",
                                      "add-header X-Spamformer-Probability: 0.5000"}));
  EXPECT_EQ(strs(evaluate(ctx_for("bob@example.com", 0.25f), *rs).actions),
            (std::vector<std::string>{"add-header X-Spamformer-Status: ham",
                                      "add-header X-Spamformer-Probability: 0.2500"}));
  Decision unchecked = evaluate(ctx_for("bob@example.com", std::nullopt), *rs);
  EXPECT_EQ(unchecked.band, "unchecked");
  EXPECT_EQ(strs(unchecked.actions),
            (std::vector<std::string>{"add-header X-Spamformer-Status: unchecked"}));
  EXPECT_EQ(outcome(evaluate(ctx_for("bob@example.com", 0.25f), *rs).actions), "deliver");
}

TEST(RulesBands, SettingsChangeFolderAndFlags) {
  Config c;
  c.settings.spam_folder = "Spam";
  c.settings.suspect_keyword = "$Junk";
  c.settings.suspect_flagged = true;
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.95f), *rs).actions[0].str(), "move Spam");
  auto suspect = evaluate(ctx_for("bob@example.com", 0.6f), *rs).actions;
  EXPECT_EQ(suspect[0].str(), "flag $Junk");
  EXPECT_EQ(suspect[1].str(), "flag \\Flagged");
}

TEST(RulesBands, ThresholdsPerScopeInheritFieldByField) {
  Config c;
  c.thresholds = {{Scope::global, "", {0.95, std::nullopt}},
                  {Scope::domain, "example.com", {0.8, 0.3}},
                  {Scope::user, "carol@example.com", {std::nullopt, 0.6}}};
  auto rs = RuleSet::build(c);
  // Global spam 0.95, suspect from the defaults (0.5).
  EXPECT_EQ(evaluate(ctx_for("x@other.example", 0.9f), *rs).band, "suspect");
  EXPECT_EQ(evaluate(ctx_for("x@other.example", 0.95f), *rs).band, "spam");
  EXPECT_EQ(evaluate(ctx_for("x@other.example", below(0.5f)), *rs).band, "ham");
  // Domain: edges 0.8 and 0.3, inclusive below.
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.8f), *rs).band, "spam");
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", below(0.8f)), *rs).band, "suspect");
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.3f), *rs).band, "suspect");
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", below(0.3f)), *rs).band, "ham");
  // User: suspect 0.6 of its own, spam 0.8 from its domain.
  EXPECT_EQ(evaluate(ctx_for("Carol@Example.com", 0.5f), *rs).band, "ham");
  EXPECT_EQ(evaluate(ctx_for("carol@example.com", 0.6f), *rs).band, "suspect");
  Decision d = evaluate(ctx_for("carol@example.com", 0.85f), *rs);
  EXPECT_EQ(d.band, "spam");
  EXPECT_NE(d.reason.find("spam threshold 0.8 (domain example.com)"), std::string::npos)
      << d.reason;
}

TEST(RulesBands, EffectiveThresholdsNameTheirScope) {
  Config c;
  c.thresholds = {{Scope::domain, "example.com", {0.8, std::nullopt}},
                  {Scope::user, "carol@example.com", {std::nullopt, 0.6}}};
  auto rs = RuleSet::build(c);
  auto t = effective_thresholds(*rs, "Carol@Example.com");
  EXPECT_EQ(t.spam, 0.8);
  EXPECT_EQ(t.spam_from, "domain example.com");
  EXPECT_EQ(t.suspect, 0.6);
  EXPECT_EQ(t.suspect_from, "user carol@example.com");
  t = effective_thresholds(*rs, "x@other.example");
  EXPECT_EQ(t.spam, 0.9);
  EXPECT_EQ(t.suspect_from, "default");
}

TEST(RulesBands, RuleBandEdges) {
  Config c;
  Rule r = rule(1, {"tag-subject [maybe]"});
  r.match.probability = Band{0.3, 0.6};
  Rule top = rule(2, {"quarantine"});
  top.match.probability = Band{0.97, 1.0};
  c.rules = {r, top};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("b@example.com", 0.3f), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("b@example.com", below(0.6f)), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("b@example.com", below(0.3f)), *rs).rule_id, "default:ham");
  EXPECT_EQ(evaluate(ctx_for("b@example.com", 0.6f), *rs).rule_id, "default:suspect");
  EXPECT_EQ(evaluate(ctx_for("b@example.com", 0.97f), *rs).rule_id, "2");
  EXPECT_EQ(evaluate(ctx_for("b@example.com", 1.0f), *rs).rule_id,
            "2");  // a band ending at 1 holds 1
  EXPECT_EQ(evaluate(ctx_for("b@example.com", below(0.97f)), *rs).rule_id, "default:spam");
  // Without a probability no band rule fires.
  EXPECT_EQ(evaluate(ctx_for("b@example.com", std::nullopt), *rs).rule_id, "default:unchecked");
}

TEST(RulesPrecedence, BlockBeatsAllowInAnyScope) {
  Config c;
  c.lists = {{"allow", Scope::user, "bob@example.com", "sender.example", ""},
             {"block", Scope::global, "", "alice@sender.example", ""}};
  auto rs = RuleSet::build(c);
  Decision d = evaluate(ctx_for("bob@example.com", 0.1f), *rs);
  EXPECT_EQ(d.rule_id, "block-list");
  EXPECT_EQ(strs(d.actions), (std::vector<std::string>{"reject Message refused by local policy"}));
  EXPECT_NE(d.reason.find("alice@sender.example on the block list (global)"), std::string::npos)
      << d.reason;
  // Another sender of the same domain is only allowed.
  d = evaluate(ctx_for("bob@example.com", 0.99f, "eve@sender.example"), *rs);
  EXPECT_EQ(d.rule_id, "allow-list");
  EXPECT_EQ(strs(d.actions),
            (std::vector<std::string>{"accept", "add-header X-Spamformer-Status: allowlisted"}));
  EXPECT_NE(d.reason.find("allow list (user bob@example.com)"), std::string::npos) << d.reason;
}

TEST(RulesPrecedence, ListsComeBeforeRules) {
  Config c;
  c.lists = {{"allow", Scope::global, "", "sender.example", ""}};
  Rule r = rule(1, {"reject no"}, Scope::user, "bob@example.com", -100);
  c.rules = {r};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.5f), *rs).rule_id, "allow-list");
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.5f, "x@elsewhere.example"), *rs).rule_id, "1");
}

TEST(RulesPrecedence, UserOverDomainOverGlobalThenPriority) {
  Config c;
  c.rules = {rule(1, {"move Global"}, Scope::global, "", -1000),
             rule(2, {"move Domain"}, Scope::domain, "example.com", 500),
             rule(3, {"move User"}, Scope::user, "bob@example.com", 900)};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.5f), *rs).rule_id, "3");
  EXPECT_EQ(evaluate(ctx_for("carol@example.com", 0.5f), *rs).rule_id, "2");
  EXPECT_EQ(evaluate(ctx_for("carol@other.example", 0.5f), *rs).rule_id, "1");

  // Within a scope: lower priority first, then lower id; disabled rules never fire.
  Config p;
  p.rules = {
      rule(10, {"move A"}, Scope::global, "", 50), rule(11, {"move B"}, Scope::global, "", 20),
      rule(12, {"move C"}, Scope::global, "", 20), rule(9, {"move D"}, Scope::global, "", 5)};
  p.rules[3].enabled = false;
  auto ps = RuleSet::build(p);
  EXPECT_EQ(evaluate(ctx_for("x@y.example", 0.5f), *ps).rule_id, "11");
}

TEST(RulesPrecedence, SenderIndexedRulesKeepTheirOrder) {
  // Rules with sender domains are looked up by the sender's domain; merged
  // with the other rules, the order stays priority, then id.
  Config c;
  Rule a = rule(1, {"move A"}, Scope::global, "", 10);
  a.match.sender = {"x.example", "bob@y.example"};
  Rule b = rule(2, {"move B"}, Scope::global, "", 5);
  Rule pre = rule(3, {"move C"}, Scope::global, "", 1);
  pre.match.sender = {"x.example"};
  pre.match.size_min = 1'000'000;  // does not hold
  Rule wild = rule(4, {"move D"}, Scope::global, "", 0);
  wild.match.sender = {"*.x.example"};
  c.rules = {a, b, pre, wild};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "s@x.example"), *rs).rule_id, "2");
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "s@sub.x.example"), *rs).rule_id, "4");
  c.rules[1].priority = 20;
  rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "s@x.example"), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "bob@y.example"), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "eve@y.example"), *rs).rule_id, "2");
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "<>"), *rs).rule_id, "2");

  // Many sender-specific rules: each sender finds its own.
  Config many;
  for (int i = 1; i <= 5000; ++i) {
    Rule r = rule(i, {"move F" + std::to_string(i)});
    r.match.sender = {"d" + std::to_string(i) + ".example"};
    many.rules.push_back(r);
  }
  auto ms = RuleSet::build(many);
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "a@d4321.example"), *ms).rule_id, "4321");
  EXPECT_EQ(evaluate(ctx_for("r@example.com", 0.5f, "a@d9999.example"), *ms).rule_id,
            "default:suspect");
}

TEST(RulesPrecedence, NonMatchingSpecificRuleFallsThrough) {
  Config c;
  Rule user = rule(1, {"move Mine"}, Scope::user, "bob@example.com");
  user.match.sender = {"friend.example"};
  c.rules = {user, rule(2, {"move Domain"}, Scope::domain, "example.com")};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.5f, "a@friend.example"), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("bob@example.com", 0.5f, "a@stranger.example"), *rs).rule_id, "2");
}

TEST(RulesLists, EntryKindsAndScopes) {
  Config c;
  c.lists = {{"block", Scope::global, "", "spam.example", ""},
             {"block", Scope::global, "", "*.bulk.example", ""},
             {"block", Scope::global, "", "<>", ""},
             {"block", Scope::global, "", "198.51.100.0/24", ""},
             {"block", Scope::global, "", "2001:db8:bad::/48", ""},
             {"block", Scope::domain, "example.com", "Mallory@Corp.example", ""},
             {"allow", Scope::user, "bob@example.com", "203.0.113.5", ""}};
  auto rs = RuleSet::build(c);
  auto id = [&](Context ctx) { return evaluate(ctx, *rs).rule_id; };
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "u@SPAM.example")), "block-list");
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "u@sub.spam.example")), "default:ham");
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "u@a.b.bulk.example")), "block-list");
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "u@bulk.example")), "default:ham");
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "<>")), "block-list");
  EXPECT_EQ(id(ctx_for("a@x.example", 0.1f, "mallory@corp.example")), "default:ham");
  EXPECT_EQ(id(ctx_for("a@example.com", 0.1f, "mallory@corp.example")), "block-list");
  Context ip = ctx_for("a@x.example", 0.1f);
  ip.client_ip = IpAddress::parse("198.51.100.77");
  EXPECT_EQ(id(ip), "block-list");
  ip.client_ip = IpAddress::parse("::ffff:198.51.100.77");
  EXPECT_EQ(id(ip), "block-list");
  ip.client_ip = IpAddress::parse("2001:db8:bad:1::9");
  EXPECT_EQ(id(ip), "block-list");
  ip.client_ip = IpAddress::parse("2001:db8:bae::9");
  EXPECT_EQ(id(ip), "default:ham");
  ip.client_ip = IpAddress::parse("203.0.113.5");
  EXPECT_EQ(id(ip), "default:ham");
  ip.recipient = "bob@example.com";
  EXPECT_EQ(id(ip), "allow-list");
  Decision d = evaluate(ip, *rs);
  EXPECT_NE(d.reason.find("client IP 203.0.113.5 matches 203.0.113.5"), std::string::npos);
}

TEST(RulesLists, NamedListIsARuleCondition) {
  Config c;
  c.lists = {{"vip", Scope::domain, "example.com", "boss.example", ""}};
  Rule r = rule(1, {"accept", "add-header X-VIP: yes"});
  r.match.list = "vip";
  Rule unknown = rule(2, {"discard"});
  unknown.match.list = "nobody";  // a list without entries matches nothing
  c.rules = {unknown, r};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(evaluate(ctx_for("a@example.com", 0.99f, "ceo@boss.example"), *rs).rule_id, "1");
  EXPECT_EQ(evaluate(ctx_for("a@other.example", 0.99f, "ceo@boss.example"), *rs).rule_id,
            "default:spam");
}

struct ConditionCase {
  const char* what;
  std::function<void(Match&)> set;
  std::function<void(Context&)> make_match;
};

TEST(RulesConditions, EachConditionMatchesAndRejects) {
  std::vector<ConditionCase> cases = {
      {"sender", [](Match& m) { m.sender = {"*.partner.example"}; },
       [](Context& c) { c.sender = "x@mail.partner.example"; }},
      {"recipient", [](Match& m) { m.recipient = {"sales@example.com"}; },
       [](Context& c) { c.recipient = "SALES@example.com"; }},
      {"tenant",
       [](Match& m) {
         m.tenant = {"acme", "globex"};
       },
       [](Context& c) { c.tenant = "globex"; }},
      {"authenticated", [](Match& m) { m.authenticated = true; },
       [](Context& c) { c.auth_user = "bob"; }},
      {"auth_user", [](Match& m) { m.auth_user = {"bob"}; },
       [](Context& c) { c.auth_user = "bob"; }},
      {"client_ip",
       [](Match& m) {
         m.client_ip = {"10.0.0.0/8", "2001:db8::/32"};
       },
       [](Context& c) { c.client_ip = IpAddress::parse("2001:db8::1"); }},
      {"header equals",
       [](Match& m) {
         m.headers = {{"list-id", "<news.example>", false, false}};
       },
       [](Context& c) {
         c.headers.push_back({"List-ID", "  <news.example> "});
       }},
      {"header regex",
       [](Match& m) {
         m.headers = {{"Subject", "^\\[ext\\]", true, false}};
       },
       [](Context& c) {
         c.headers.push_back({"subject", "[ext] hello"});
       }},
      {"header nocase",
       [](Match& m) {
         m.headers = {{"X-Prio", "urgent", false, true}};
       },
       [](Context& c) {
         c.headers.push_back({"X-Prio", "URGENT"});
       }},
      {"size",
       [](Match& m) {
         m.size_min = 1000;
         m.size_max = 5000;
       },
       [](Context& c) { c.size = 1000; }},
  };
  for (const auto& k : cases) {
    Config c;
    Rule r = rule(1, {"move Hit"});
    k.set(r.match);
    c.rules = {r};
    auto rs = RuleSet::build(c);
    Context base = ctx_for("bob@example.com", 0.1f);
    base.size = 100;
    EXPECT_EQ(evaluate(base, *rs).rule_id, "default:ham") << k.what;
    Context hit = base;
    k.make_match(hit);
    EXPECT_EQ(evaluate(hit, *rs).rule_id, "1") << k.what;
  }
}

TEST(RulesConditions, AllConditionsMustHold) {
  Config c;
  Rule r = rule(1, {"move Hit"});
  r.match.sender = {"partner.example"};
  r.match.size_max = 5000;
  c.rules = {r};
  auto rs = RuleSet::build(c);
  Context ctx = ctx_for("bob@example.com", 0.1f, "a@partner.example");
  ctx.size = 4999;
  EXPECT_EQ(evaluate(ctx, *rs).rule_id, "1");
  ctx.size = 5000;  // size_max is exclusive
  EXPECT_EQ(evaluate(ctx, *rs).rule_id, "default:ham");
}

TEST(RulesConditions, RegexSeesOnlyTheCappedInput) {
  Config c;
  c.settings.max_regex_input = 64;
  Rule r = rule(1, {"move Hit"});
  r.match.headers = {{"Subject", "needle", true, false}};
  c.rules = {r};
  auto rs = RuleSet::build(c);
  Context near = ctx_for("b@example.com", 0.1f);
  near.headers.push_back({"Subject", std::string(58, 'x') + "needle"});
  EXPECT_EQ(evaluate(near, *rs).rule_id, "1");
  Context far = ctx_for("b@example.com", 0.1f);
  far.headers.push_back({"Subject", std::string(59, 'x') + "needle"});
  EXPECT_EQ(evaluate(far, *rs).rule_id, "default:ham");
  // A huge header does not blow the regex engine's stack.
  Context huge = ctx_for("b@example.com", 0.1f);
  huge.headers.push_back({"Subject", std::string(10'000'000, 'y')});
  EXPECT_EQ(evaluate(huge, *rs).rule_id, "default:ham");
}

TEST(RulesActions, EachActionMapsIntoTheDecision) {
  const std::vector<std::pair<std::string, ActionKind>> cases = {
      {"accept", ActionKind::accept},
      {"reject 5.7.1 No thanks", ActionKind::reject},
      {"tempfail Busy", ActionKind::tempfail},
      {"discard", ActionKind::discard},
      {"quarantine review", ActionKind::quarantine},
      {"move Archive/2024", ActionKind::move},
      {"flag \\Flagged", ActionKind::flag},
      {"flag $Newsletter", ActionKind::flag},
      {"add-header X-Policy: p={probability} r={rule}", ActionKind::add_header},
      {"tag-subject [EXT]", ActionKind::tag_subject},
      {"skip-model", ActionKind::skip_model},
  };
  for (const auto& [text, kind] : cases) {
    Config c;
    c.rules = {rule(5, {text})};
    auto rs = RuleSet::build(c);
    Decision d = evaluate(ctx_for("b@example.com", 0.25f), *rs);
    ASSERT_EQ(d.actions.size(), 1u) << text;
    EXPECT_EQ(d.actions[0].kind, kind) << text;
    if (kind == ActionKind::add_header) {
      EXPECT_EQ(d.actions[0].str(), "add-header X-Policy: p=0.2500 r=5");
    } else {
      EXPECT_EQ(d.actions[0].str(), text);
    }
  }
  // Order is kept as written.
  Config c;
  c.rules = {rule(6, {"tag-subject [X]", "flag $A", "move F", "add-header X-B: 1"})};
  auto rs = RuleSet::build(c);
  EXPECT_EQ(
      strs(evaluate(ctx_for("b@example.com", 0.25f), *rs).actions),
      (std::vector<std::string>{"tag-subject [X]", "flag $A", "move F", "add-header X-B: 1"}));
}

TEST(RulesBeforeModel, OnlyListsAndSkipModelRulesDecideWithoutTheModel) {
  Config c;
  c.lists = {{"block", Scope::global, "", "bad.example", ""},
             {"allow", Scope::global, "", "good.example", ""}};
  Rule band = rule(1, {"move Maybe"});
  band.match.probability = Band{0.6, 0.8};
  band.match.sender = {"banded.example"};
  Rule skip = rule(2, {"accept", "skip-model"});
  skip.match.sender = {"trusted.example", "banded.example"};
  Rule plain = rule(3, {"tag-subject [ext]"});
  plain.match.sender = {"plain.example"};
  c.rules = {band, skip, plain};
  auto rs = RuleSet::build(c);
  auto pre = [&](const std::string& from) {
    return evaluate_before_model(ctx_for("b@example.com", std::nullopt, "x@" + from), *rs);
  };
  ASSERT_TRUE(pre("bad.example"));
  EXPECT_EQ(pre("bad.example")->rule_id, "block-list");
  EXPECT_EQ(pre("good.example")->rule_id, "allow-list");
  ASSERT_TRUE(pre("trusted.example"));
  EXPECT_EQ(pre("trusted.example")->rule_id, "2");
  EXPECT_FALSE(pre("banded.example"));  // rule 1 comes first and needs the probability
  EXPECT_FALSE(pre("plain.example"));   // fires regardless of p, but did not ask to skip
  EXPECT_FALSE(pre("other.example"));   // the bands need the model
  EXPECT_TRUE(needs_model(ctx_for("b@example.com", std::nullopt), *rs));
  // The decision before the model equals the final one.
  auto final = evaluate(ctx_for("b@example.com", 0.99f, "x@trusted.example"), *rs);
  EXPECT_EQ(final.rule_id, "2");
  EXPECT_EQ(strs(final.actions), strs(pre("trusted.example")->actions));
}

TEST(RulesJson, ContextAndDecision) {
  auto ctx = context_from_json(nlohmann::json::parse(
      R"({"sender": "a@b.example", "recipient": "c@d.example", "client_ip": "192.0.2.1",
          "headers": ["Subject: hi: there"], "size": 10, "probability": 0.5})"));
  EXPECT_EQ(ctx.headers[0].name, "Subject");
  EXPECT_EQ(ctx.headers[0].value, "hi: there");
  EXPECT_EQ(*ctx.probability, 0.5f);
  EXPECT_THROW(context_from_json(nlohmann::json::parse(R"({"probabilty": 0.5})")), RuleError);
  EXPECT_THROW(context_from_json(nlohmann::json::parse(R"({"client_ip": "x"})")), RuleError);
  auto j = to_json(evaluate(ctx, *RuleSet::build({})));
  EXPECT_EQ(j["rule"], "default:suspect");
  EXPECT_EQ(j["outcome"], "flag $Suspect");
}

}  // namespace
}  // namespace sf::rules
