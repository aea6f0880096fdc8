// test_rules_verdicts.cpp: the verdict log: what a verdict keeps (and does
// not), batched writing off the caller's thread, the timer flush, drops when
// the queue is full, draining on shutdown, pruning by retention; and the
// what-if replay's counts on a log the test writes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "rules/sha256.h"
#include "rules/store.h"
#include "rules/verdict_writer.h"
#include "rules/what_if.h"

namespace sf::rules {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RulesVerdicts : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("sf_rules_verdicts_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::create_directories(dir_);
    db_ = (dir_ / "rules.db").string();
    Store create(db_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Verdict verdict(int64_t time_ms, int i) {
    Verdict v;
    v.time_ms = time_ms;
    v.message_hash = message_id_hash("<" + std::to_string(i) + "@test>");
    v.sender_domain = "sender.example";
    v.recipient_domain = "example.com";
    v.recipient_hash = sha256_hex("bob@example.com");
    v.size = 100 + static_cast<uint64_t>(i);
    v.probability = 0.25f;
    v.model_version = "test-1";
    v.rule_id = "default:ham";
    v.actions = {Action::parse("add-header X-Spamformer-Status: ham")};
    return v;
  }

  int64_t count() {
    Store s(db_);
    return s.verdict_count();
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(RulesVerdicts, VerdictKeepsHashesAndDomainsOnly) {
  Context ctx;
  ctx.sender = "Alice@Sender.Example";
  ctx.recipient = "<Bob@Example.com>";
  ctx.tenant = "acme";
  ctx.size = 1234;
  ctx.probability = 0.95f;
  ctx.headers.push_back({"Subject", "secret subject"});
  Decision d = evaluate(ctx, *RuleSet::build({}));
  Verdict v = make_verdict(ctx, d, " <m1@host> ", "minilm-1", 42);
  EXPECT_EQ(v.message_hash, sha256_hex("m1@host"));
  EXPECT_EQ(v.sender_domain, "sender.example");
  EXPECT_EQ(v.recipient_domain, "example.com");
  EXPECT_EQ(v.recipient_hash, sha256_hex("bob@example.com"));
  EXPECT_EQ(v.rule_id, "default:spam");
  EXPECT_EQ(v.actions, d.actions);
  Store s(db_);
  s.add_verdicts({v});
  std::vector<Verdict> back;
  s.for_each_verdict(0, [&](const Verdict& x) { back.push_back(x); });
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], v);
  // Nothing of the content or the full addresses reached the file.
  std::ifstream f(db_ + "-wal", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(raw.find("secret subject"), std::string::npos);
  EXPECT_EQ(raw.find("alice@"), std::string::npos);
  EXPECT_EQ(raw.find("bob@"), std::string::npos);
}

TEST_F(RulesVerdicts, NullProbabilityRoundTrips) {
  Store s(db_);
  Verdict v = verdict(5, 1);
  v.probability.reset();
  s.add_verdicts({v});
  std::vector<Verdict> back;
  s.for_each_verdict(0, [&](const Verdict& x) { back.push_back(x); });
  ASSERT_EQ(back.size(), 1u);
  EXPECT_FALSE(back[0].probability);
}

TEST_F(RulesVerdicts, WritesInBatchesOfN) {
  VerdictWriterOptions o;
  o.batch_size = 100;
  o.flush_interval = 60s;  // only full batches are written
  {
    VerdictWriter w(db_, o);
    int64_t now = now_ms();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.submit(verdict(now, i)));
    w.flush();
    auto st = w.stats();
    EXPECT_EQ(st.written, 1000u);
    EXPECT_EQ(st.batches, 10u);
    EXPECT_EQ(st.dropped, 0u);
  }
  EXPECT_EQ(count(), 1000);
}

TEST_F(RulesVerdicts, PartialBatchIsWrittenAfterTheInterval) {
  VerdictWriterOptions o;
  o.batch_size = 1000;
  o.flush_interval = 50ms;
  VerdictWriter w(db_, o);
  for (int i = 0; i < 5; ++i) w.submit(verdict(now_ms(), i));
  // No flush(): the timer alone must write them.
  for (int i = 0; i < 500 && count() < 5; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count(), 5);
  EXPECT_EQ(w.stats().batches, 1u);
}

TEST_F(RulesVerdicts, ShutdownDrainsTheQueue) {
  VerdictWriterOptions o;
  o.batch_size = 1000;
  o.flush_interval = 60s;
  {
    VerdictWriter w(db_, o);
    for (int i = 0; i < 50; ++i) w.submit(verdict(now_ms(), i));
  }
  EXPECT_EQ(count(), 50);
}

TEST_F(RulesVerdicts, FullQueueDropsInsteadOfBlocking) {
  VerdictWriterOptions o;
  o.queue_capacity = 4;
  o.batch_size = 4;
  o.flush_interval = 60s;
  o.store.busy_timeout_ms = 20000;
  o.retention = 0h;  // no pruning, which would also wait for the lock
  VerdictWriter w(db_, o);
  // Hold the write lock so the writer blocks inside its first batch.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(w.submit(verdict(now_ms(), i)));
  for (int i = 0; i < 1000 && w.stats().queued > 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(w.stats().queued, 0u);  // taken by the writer, which now waits for the lock
  for (int i = 4; i < 8; ++i) EXPECT_TRUE(w.submit(verdict(now_ms(), i)));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(w.submit(verdict(now_ms(), 8)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // did not wait for the writer
  EXPECT_EQ(w.stats().dropped, 1u);
  sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  w.flush();
  EXPECT_EQ(w.stats().written, 8u);
  EXPECT_EQ(count(), 8);
}

TEST_F(RulesVerdicts, PrunesByRetention) {
  int64_t now = now_ms();
  int64_t hour = 3600 * 1000;
  {
    Store s(db_);
    s.add_verdicts({verdict(now - 50 * hour, 1), verdict(now - 49 * hour, 2)});
  }
  VerdictWriterOptions o;
  o.retention = 48h;
  o.prune_interval = 1h;
  VerdictWriter w(db_, o);
  // The writer prunes when it starts.
  for (int i = 0; i < 500 && count() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count(), 0);
  w.submit(verdict(now - 72 * hour, 3));
  w.submit(verdict(now - 47 * hour, 4));
  w.submit(verdict(now - 1 * hour, 5));
  w.flush();
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(w.prune_now(), 1);
  Store s(db_);
  std::vector<int64_t> left;
  s.for_each_verdict(0, [&](const Verdict& v) { left.push_back(v.time_ms); });
  EXPECT_EQ(left, (std::vector<int64_t>{now - 47 * hour, now - 1 * hour}));
  EXPECT_EQ(w.stats().pruned, 3u);
}

TEST_F(RulesVerdicts, ZeroRetentionKeepsEverything) {
  {
    Store s(db_);
    s.add_verdicts({verdict(1, 1)});
  }
  VerdictWriterOptions o;
  o.retention = 0h;
  VerdictWriter w(db_, o);
  EXPECT_EQ(w.prune_now(), 0);
  EXPECT_EQ(count(), 1);
}

// A log of decisions made under `rules`, one per (recipient, sender, p).
std::vector<Verdict> log_of(const RuleSet& rules,
                            const std::vector<std::tuple<std::string, std::string, float>>& msgs) {
  std::vector<Verdict> out;
  int i = 0;
  for (const auto& [to, from, p] : msgs) {
    Context ctx;
    ctx.recipient = to;
    ctx.sender = from;
    ctx.probability = p;
    ctx.size = 1000;
    out.push_back(
        make_verdict(ctx, evaluate(ctx, rules), "<" + std::to_string(i++) + "@t>", "m", 1));
  }
  return out;
}

TEST(RulesWhatIf, DomainThresholdChangeCountsByActionAndDomain) {
  Config c;
  c.lists = {{"block", Scope::global, "", "bad.example", ""}};
  auto current = RuleSet::build(c);
  auto log = log_of(*current, {{"a@example.com", "x@s.example", 0.10f},
                               {"b@example.com", "x@s.example", 0.55f},
                               {"c@example.com", "x@s.example", 0.85f},
                               {"d@example.com", "x@s.example", 0.80f},
                               {"e@example.com", "x@s.example", 0.95f},
                               {"f@example.com", "x@bad.example", 0.85f},
                               {"g@other.example", "x@s.example", 0.85f}});
  Config proposed = c;
  proposed.thresholds = {{Scope::domain, "example.com", {0.8, std::nullopt}}};
  WhatIf w(current, RuleSet::build(proposed), true);
  for (const auto& v : log) w.add(v);
  const auto& r = w.report();
  EXPECT_EQ(r.total, 7u);
  EXPECT_EQ(r.replayed, 7u);
  EXPECT_EQ(r.changed, 2u);  // p 0.85 and p 0.80 (the edge) at example.com
  EXPECT_EQ(r.by_transition.at("flag $Suspect -> move Junk"), 2u);
  EXPECT_EQ(r.by_domain.at("example.com"), 2u);
  EXPECT_EQ(r.by_domain.count("other.example"), 0u);
  EXPECT_EQ(r.by_domain_transition.at("example.com").at("flag $Suspect -> move Junk"), 2u);
}

TEST(RulesWhatIf, UnreplayableVerdictsAreCountedNotGuessed) {
  // The log was written under a rule on a header, which the log does not keep.
  Config c;
  Rule hdr;
  hdr.id = 1;
  hdr.match.headers = {{"X-Mailer", "bulk", false, false}};
  hdr.actions = {Action::parse("move Bulk")};
  c.rules = {hdr};
  auto current = RuleSet::build(c);
  Context ctx;
  ctx.recipient = "a@example.com";
  ctx.sender = "x@s.example";
  ctx.probability = 0.6f;
  ctx.headers = {{"X-Mailer", "bulk"}};
  std::vector<Verdict> log = {make_verdict(ctx, evaluate(ctx, *current), "<1@t>", "m", 1)};
  ctx.headers.clear();
  log.push_back(make_verdict(ctx, evaluate(ctx, *current), "<2@t>", "m", 1));
  ASSERT_EQ(log[0].rule_id, "1");

  // A threshold proposal: the header-rule message is decided before the bands.
  Config t = c;
  t.thresholds = {{Scope::global, "", {0.55, std::nullopt}}};
  WhatIf wt(current, RuleSet::build(t), true);
  for (const auto& v : log) wt.add(v);
  EXPECT_EQ(wt.report().kept, 1u);
  EXPECT_EQ(wt.report().changed, 1u);
  EXPECT_EQ(wt.report().by_transition.at("flag $Suspect -> move Junk"), 1u);

  // A rule proposal: the header-rule message cannot be replayed.
  Config p = c;
  Rule all;
  all.id = 2;
  all.actions = {Action::parse("quarantine")};
  p.rules.push_back(all);
  WhatIf wr(current, RuleSet::build(p), false);
  for (const auto& v : log) wr.add(v);
  EXPECT_EQ(wr.report().not_replayable, 1u);
  EXPECT_EQ(wr.report().not_replayable_by_rule.at("1"), 1u);
  EXPECT_EQ(wr.report().changed, 1u);
  EXPECT_EQ(wr.report().by_transition.at("flag $Suspect -> quarantine"), 1u);
}

TEST(RulesWhatIf, UserScopedChangesFindTheirRecipientsByHash) {
  Config c;
  auto current = RuleSet::build(c);
  auto log = log_of(*current, {{"bob@example.com", "x@s.example", 0.7f},
                               {"carol@example.com", "x@s.example", 0.7f}});
  Config p;
  p.thresholds = {{Scope::user, "bob@example.com", {0.6, std::nullopt}}};
  WhatIf w(current, RuleSet::build(p), true);
  for (const auto& v : log) w.add(v);
  EXPECT_EQ(w.report().changed, 1u);  // bob only
}

}  // namespace
}  // namespace sf::rules
