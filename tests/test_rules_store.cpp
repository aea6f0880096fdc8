// test_rules_store.cpp: the SQLite store: persistence across reopen, WAL,
// audit rows for every change, errors that change nothing, refusal of
// corrupt, foreign and newer-schema files (left byte for byte unchanged),
// migration from every earlier schema version, and the TOML round trip.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/errors.h"
#include "rules/schema.h"
#include "rules/store.h"
#include "rules/toml_io.h"

namespace sf::rules {
namespace {

namespace fs = std::filesystem;

class RulesStore : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("sf_rules_store_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name = "rules.db") const { return (dir_ / name).string(); }

  static std::string bytes(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  static void raw_exec(const std::string& p, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
  static std::string refusal(const std::string& p) {
    try {
      Store s(p);
    } catch (const StoreError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

Config sample_config() {
  Config c;
  c.settings.spam_folder = "Spam \"box\"";
  c.settings.suspect_flagged = true;
  c.thresholds = {{Scope::global, "", {0.92, 0.45}},
                  {Scope::domain, "example.com", {0.8, std::nullopt}},
                  {Scope::user, "bob@example.com", {std::nullopt, 0.6}}};
  c.tenants = {{"acme", "Acme Corp"}, {"globex", ""}};
  c.lists = {{"block", Scope::global, "", "spam.example", "seen in 2024"},
             {"block", Scope::global, "", "198.51.100.0/24", ""},
             {"allow", Scope::user, "bob@example.com", "*.partner.example", ""},
             {"vip", Scope::domain, "example.com", "boss@corp.example", "CEO"}};
  Rule a;
  a.id = 4;
  a.name = "news \u00e9";
  a.scope = Scope::domain;
  a.key = "example.com";
  a.priority = 10;
  a.match.headers = {{"List-Id", "^<news\\.", true, true}, {"X-Tag", "a \"b\"", false, false}};
  a.match.probability = Band{0.2, 0.9};
  a.match.size_max = 100000;
  a.actions = {Action::parse("move News"), Action::parse("add-header X-Rule: {rule}")};
  Rule b;
  b.id = 9;
  b.enabled = false;
  b.match.sender = {"<>"};
  b.match.client_ip = {"2001:db8::/32"};
  b.match.authenticated = false;
  b.match.tenant = {"acme"};
  b.match.list = "vip";
  b.actions = {Action::parse("tempfail Not now"), Action::parse("skip-model")};
  c.rules = {a, b};
  return normalize(c);
}

TEST_F(RulesStore, FreshDatabaseIsWalAtTheLatestVersion) {
  Store s(path());
  EXPECT_EQ(s.schema_version(), latest_schema_version());
  EXPECT_EQ(s.generation(), 0u);
  EXPECT_EQ(s.load_config(), Config{});
  EXPECT_TRUE(fs::exists(path() + "-wal"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(RulesStore, MissingFileIsNotCreatedWhenAskedNotTo) {
  StoreOptions o;
  o.create = false;
  try {
    Store s(path(), o);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no rules database at"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(path()));
}

TEST_F(RulesStore, EverythingPersistsAcrossReopen) {
  Config c = sample_config();
  {
    Store s(path());
    s.import_config(c, "tester");
  }
  Store s(path());
  EXPECT_EQ(s.load_config(), c);
  EXPECT_EQ(s.rule(4), c.rules[0]);
  EXPECT_EQ(s.generation(), 1u);
}

TEST_F(RulesStore, EachChangeIsAuditedWithBeforeAndAfter) {
  Store s(path());
  Rule r;
  r.actions = {Action::parse("move X")};
  Rule added = s.add_rule(r, "alice");
  EXPECT_GT(added.id, 0);
  Rule changed = added;
  changed.priority = 5;
  s.update_rule(changed, "bob");
  s.set_threshold(Scope::domain, "Example.com", ThresholdKind::spam, 0.8, "carol");
  s.add_list_entries({{"block", Scope::global, "", "bad.example", ""}}, "dave");
  s.remove_list_entries({{"block", Scope::global, "", "BAD.example", ""}}, "dave");
  s.add_tenant({"acme", ""}, "erin");
  s.set_setting("spam_folder", "Spam", "frank");
  s.remove_rule(added.id, "alice");
  auto audit = s.audit(100);
  ASSERT_EQ(audit.size(), 8u);
  EXPECT_EQ(s.generation(), 8u);
  // Newest first.
  EXPECT_EQ(audit[0].action, "rule.remove");
  EXPECT_EQ(audit[0].actor, "alice");
  EXPECT_EQ(audit[0].before["actions"][0], "move X");
  EXPECT_TRUE(audit[0].after.is_null());
  EXPECT_EQ(audit[1].action, "setting.set");
  EXPECT_EQ(audit[1].before, "Junk");
  EXPECT_EQ(audit[1].after, "Spam");
  EXPECT_EQ(audit[3].action, "list.remove");
  EXPECT_EQ(audit[3].object, "block list (global) bad.example");
  EXPECT_EQ(audit[5].action, "threshold.set");
  EXPECT_EQ(audit[5].object, "threshold domain example.com spam");
  EXPECT_TRUE(audit[5].before.is_null());
  EXPECT_EQ(audit[5].after["spam"], 0.8);
  EXPECT_EQ(audit[6].action, "rule.update");
  EXPECT_EQ(audit[6].before["priority"], 100);
  EXPECT_EQ(audit[6].after["priority"], 5);
  EXPECT_EQ(audit[7].action, "rule.add");
  EXPECT_TRUE(audit[7].before.is_null());
  // Removed ids are not reused.
  EXPECT_GT(s.add_rule(r, "alice").id, added.id);
}

TEST_F(RulesStore, FailedChangesChangeNothing) {
  Store s(path());
  s.add_list_entries({{"block", Scope::global, "", "a.example", ""}}, "t");
  uint64_t gen = s.generation();
  size_t audit = s.audit(100).size();
  // The second entry is a duplicate: neither is added.
  EXPECT_THROW(s.add_list_entries({{"block", Scope::global, "", "b.example", ""},
                                   {"block", Scope::global, "", "a.example", ""}},
                                  "t"),
               RuleError);
  EXPECT_EQ(s.list_entries("block").size(), 1u);
  EXPECT_THROW(s.remove_rule(42, "t"), NotFound);
  EXPECT_THROW(s.rule(42), NotFound);
  EXPECT_THROW(s.remove_list_entries({{"block", Scope::global, "", "zzz.example", ""}}, "t"),
               NotFound);
  EXPECT_THROW(s.set_threshold(Scope::global, "", ThresholdKind::spam, 1.5, "t"), RuleError);
  EXPECT_THROW(s.set_setting("no_such", "1", "t"), RuleError);
  EXPECT_THROW(s.remove_tenant("nobody", "t"), NotFound);
  Rule bad;
  bad.actions = {Action{ActionKind::move, ""}};
  EXPECT_THROW(s.add_rule(bad, "t"), RuleError);
  EXPECT_EQ(s.generation(), gen);
  EXPECT_EQ(s.audit(100).size(), audit);
}

TEST_F(RulesStore, ThresholdsKeepSuspectBelowSpamAcrossScopes) {
  Store s(path());
  s.set_threshold(Scope::domain, "example.com", ThresholdKind::spam, 0.7, "t");
  try {
    s.set_threshold(Scope::user, "bob@example.com", ThresholdKind::suspect, 0.75, "t");
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("spam threshold 0.7 (domain example.com)"),
              std::string::npos)
        << e.what();
  }
  auto t = s.set_threshold(Scope::user, "bob@example.com", ThresholdKind::suspect, 0.65, "t");
  EXPECT_EQ(*t.t.suspect, 0.65);
  // inherit removes the value, and the row once both are gone.
  s.set_threshold(Scope::user, "bob@example.com", ThresholdKind::suspect, std::nullopt, "t");
  EXPECT_EQ(s.thresholds().size(), 1u);
}

TEST_F(RulesStore, NewerSchemaIsRefusedAndLeftUnchanged) {
  { Store s(path()); }
  raw_exec(path(), "PRAGMA user_version = 99");
  std::string before = bytes(path());
  std::string msg = refusal(path());
  EXPECT_NE(msg.find("schema version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("up to " + std::to_string(latest_schema_version())), std::string::npos) << msg;
  EXPECT_EQ(bytes(path()), before);
}

TEST_F(RulesStore, GarbageFileIsRefusedAndLeftUnchanged) {
  {
    std::ofstream f(path(), std::ios::binary);
    for (int i = 0; i < 5000; ++i) f << "this is not a database " << i << "\n";
  }
  std::string before = bytes(path());
  std::string msg = refusal(path());
  EXPECT_NE(msg.find("corrupt or not a SQLite database"), std::string::npos) << msg;
  EXPECT_EQ(bytes(path()), before);
}

TEST_F(RulesStore, DamagedPagesAreRefusedAndLeftUnchanged) {
  {
    Store s(path());
    Config c = sample_config();
    for (int i = 0; i < 300; ++i) {
      c.lists.push_back({"block", Scope::global, "", "host" + std::to_string(i) + ".example", ""});
    }
    s.import_config(c, "t");
  }
  ASSERT_FALSE(fs::exists(path() + "-wal"));  // checkpointed on close
  std::string data = bytes(path());
  ASSERT_GT(data.size(), 8 * 4096u);
  // Overwrite the middle of page 4 onwards (b-tree pages) with noise.
  for (size_t i = 3 * 4096 + 100; i < 6 * 4096; ++i) data[i] = static_cast<char>(i * 7);
  {
    std::ofstream f(path(), std::ios::binary | std::ios::trunc);
    f << data;
  }
  std::string msg = refusal(path());
  EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
  EXPECT_EQ(bytes(path()), data);
}

TEST_F(RulesStore, ForeignSqliteFileIsRefused) {
  raw_exec(path(), "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  std::string before = bytes(path());
  std::string msg = refusal(path());
  EXPECT_NE(msg.find("not a spamformer rules database"), std::string::npos) << msg;
  EXPECT_EQ(bytes(path()), before);
}

TEST_F(RulesStore, MigrationsAreContiguous) {
  int expect = 1;
  for (const auto& m : migrations()) EXPECT_EQ(m.version, expect++);
  EXPECT_EQ(latest_schema_version(), static_cast<int>(migrations().size()));
}

// Data each schema version can hold, written with the SQL of that version.
void fill_at_version(const std::string& p, int version) {
  if (version < 1) return;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
  const char* sql =
      "INSERT INTO rules (id, name, scope, key, priority, enabled, match, actions, created, "
      "updated) VALUES (7, 'old', 'domain', 'example.com', 3, 1, "
      "'{\"sender\":[\"x.example\"]}', '[\"move Old\"]', 0, 0);"
      "INSERT INTO lists (list, scope, key, entry, comment, created) "
      "VALUES ('block', 'global', '', 'bad.example', '', 0);"
      "INSERT INTO thresholds (scope, key, spam, suspect) VALUES ('global', '', 0.85, NULL);"
      "INSERT INTO tenants (name, description, created) VALUES ('acme', '', 0);"
      "INSERT INTO audit (time, actor, action, object) VALUES (1, 'old', 'rule.add', 'rule 7');"
      "UPDATE meta SET value = '5' WHERE key = 'generation';";
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST_F(RulesStore, MigratesFromEveryEarlierVersion) {
  for (int v = 0; v < latest_schema_version(); ++v) {
    std::string p = path("v" + std::to_string(v) + ".db");
    create_database_at_version(p, v);
    fill_at_version(p, v);
    Store s(p);
    EXPECT_EQ(s.schema_version(), latest_schema_version()) << "from " << v;
    Config c = s.load_config();
    if (v >= 1) {
      ASSERT_EQ(c.rules.size(), 1u);
      EXPECT_EQ(c.rules[0].id, 7);
      EXPECT_EQ(c.rules[0].actions[0].str(), "move Old");
      EXPECT_EQ(c.lists.size(), 1u);
      EXPECT_EQ(*c.thresholds[0].t.spam, 0.85);
      EXPECT_EQ(c.tenants[0].name, "acme");
      EXPECT_EQ(s.generation(), 5u);
      EXPECT_EQ(s.audit(10).size(), 1u);
    } else {
      EXPECT_EQ(c, Config{});
    }
    // The tables of later versions work.
    Verdict vd;
    vd.time_ms = 1;
    vd.rule_id = "default:ham";
    s.add_verdicts({vd});
    EXPECT_EQ(s.verdict_count(), 1);
    s.add_feedback({2, FeedbackSource::imap, "h", Label::ham, "bob"});
    EXPECT_EQ(s.feedback().size(), 1u);
  }
}

TEST_F(RulesStore, UnreadableStoredRuleIsAnErrorNotADefault) {
  { Store s(path()); }
  raw_exec(path(),
           "INSERT INTO rules (id, name, scope, key, priority, enabled, match, actions, created, "
           "updated) VALUES (3, '', 'global', '', 1, 1, '{\"bogus\": 1}', '[]', 0, 0)");
  Store s(path());
  try {
    s.load_config();
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("rule 3"), std::string::npos) << e.what();
  }
}

TEST_F(RulesStore, TwoConnectionsSeeEachOthersChanges) {
  Store a(path()), b(path());
  uint64_t g = b.generation();
  Rule r;
  r.actions = {Action::parse("accept")};
  a.add_rule(r, "t");
  EXPECT_EQ(b.generation(), g + 1);
  EXPECT_EQ(b.rules().size(), 1u);
}

TEST_F(RulesStore, TomlRoundTrip) {
  Config c = sample_config();
  std::string text = export_toml(c);
  Config back = import_toml(text);
  EXPECT_EQ(back, c);
  EXPECT_EQ(export_toml(back), text);
  // Through the store as well.
  Store s(path());
  s.import_config(import_toml(text), "t");
  EXPECT_EQ(export_toml(s.load_config()), text);
  EXPECT_NE(text.find("[[rules]]"), std::string::npos);
  EXPECT_NE(text.find("spam = 0.92"), std::string::npos) << text;
}

TEST_F(RulesStore, TomlErrorsNameTheLineOrKey) {
  try {
    import_toml("[[rules]]\nactions = [\"move X\"\n");
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
  try {
    import_toml("[[rules]]\nactions = [\"move X\"]\npriorty = 3\n");
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'priorty'"), std::string::npos) << e.what();
  }
  try {
    import_toml("[[thresholds]]\nspam = 0.4\nsuspect = 0.6\n");
    FAIL();
  } catch (const RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("suspect threshold 0.6 is above"), std::string::npos)
        << e.what();
  }
}

TEST_F(RulesStore, SnippetsInTomlAndJson) {
  Rule t = rule_from_snippet(
      "name = \"x\"\nuser = \"Bob@Example.com\"\nactions = [\"flag \\\\Flagged\"]\n"
      "[match]\nsender = \"boss.example\"\n");
  EXPECT_EQ(t.scope, Scope::user);
  EXPECT_EQ(t.key, "bob@example.com");
  EXPECT_EQ(t.actions[0].arg, "\\Flagged");
  Rule j = rule_from_snippet(R"({"name": "x", "user": "bob@example.com",
      "actions": ["flag \\Flagged"], "match": {"sender": ["boss.example"]}})");
  EXPECT_EQ(j, t);
}

}  // namespace
}  // namespace sf::rules
