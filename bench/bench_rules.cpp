// bench_rules.cpp: decisions per second of the rule engine (rules/evaluate.h)
// with 10,000 rules (global, per-domain, per-user) and 100,000 list entries
// (domains, addresses, networks, per-user allow lists), on one thread.
// Usage: bench_rules [GLOBAL_RULES (of the 10,000; default 100)] [SECONDS (default 2)]
// Prints the rule-set build time and decisions/s; target: < 2 us per decision.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "rules/evaluate.h"
#include "rules/rule_set.h"
using namespace sf::rules;
int main(int argc, char** argv) {
  int global_rules = argc > 1 ? std::atoi(argv[1]) : 100;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 2;
  std::mt19937 rng(1);
  Config c;
  int ndom = 1000, nusers = 5000;
  auto dom = [](int i) { return "d" + std::to_string(i) + ".example"; };
  auto user = [&](int i) { return "u" + std::to_string(i) + "@" + dom(i % ndom); };
  int64_t id = 1;
  int total = 10000;
  for (int i = 0; i < global_rules; ++i) {
    Rule r;
    r.id = id++;
    r.match.sender = {"s" + std::to_string(i) + ".example"};
    if (i % 3 == 0)
      r.match.headers = {{"Subject", "^\\[x" + std::to_string(i) + "\\]", true, false}};
    r.actions = {Action::parse("move G")};
    c.rules.push_back(r);
  }
  int rest = total - global_rules;
  for (int i = 0; i < rest; ++i) {
    Rule r;
    r.id = id++;
    if (i % 4 == 0) {
      r.scope = Scope::domain;
      r.key = dom(i % ndom);
    } else {
      r.scope = Scope::user;
      r.key = user(i % nusers);
    }
    r.match.sender = {"p" + std::to_string(i) + ".example"};
    r.match.probability = Band{0.3, 0.7};
    r.actions = {Action::parse("move X")};
    c.rules.push_back(r);
  }
  for (int i = 0; i < 50000; ++i)
    c.lists.push_back({"block", Scope::global, "", "b" + std::to_string(i) + ".example", ""});
  for (int i = 0; i < 10000; ++i)
    c.lists.push_back({"block", Scope::global, "", "x@a" + std::to_string(i) + ".example", ""});
  for (int i = 0; i < 10000; ++i)
    c.lists.push_back({"block", Scope::global, "",
                       std::to_string(10 + i / 65536 % 200) + "." + std::to_string(i / 256 % 256) +
                           "." + std::to_string(i % 256) + ".0/24",
                       ""});
  for (int i = 0; i < 30000; ++i)
    c.lists.push_back(
        {"allow", Scope::user, user(i % nusers), "f" + std::to_string(i) + ".example", ""});
  auto t0 = std::chrono::steady_clock::now();
  auto rs = RuleSet::build(c);
  auto t1 = std::chrono::steady_clock::now();
  printf("rules %zu, list entries %zu, global rules %d, build %.1f ms\n", c.rules.size(),
         c.lists.size(), global_rules, std::chrono::duration<double, std::milli>(t1 - t0).count());
  std::vector<Context> ctxs;
  for (int i = 0; i < 1000; ++i) {
    Context x;
    x.sender = "someone@sender" + std::to_string(rng() % 100000) + ".example";
    x.recipient = user(rng() % nusers);
    x.client_ip = IpAddress::parse("203.0.113." + std::to_string(rng() % 256));
    x.headers = {{"From", "Someone <someone@example.org>"},
                 {"Subject", "Hello there, a normal subject line"},
                 {"Message-ID", "<abc@def>"}};
    x.size = 5000;
    x.probability = float(rng() % 1000) / 1000.0f;
    ctxs.push_back(x);
  }
  size_t n = 0;
  size_t sink = 0;
  auto s = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - s < std::chrono::seconds(seconds)) {
    for (const auto& x : ctxs) {
      sink += evaluate(x, *rs).actions.size();
      ++n;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
  printf("decisions/s %.0f  (%.3f us/decision, one thread) sink %zu\n", n / secs, secs / n * 1e6,
         sink);
}
