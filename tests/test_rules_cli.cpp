// test_rules_cli.cpp: `spamformer rules`, called in-process with a temporary
// database: every subcommand's output, exit status and error messages (bad
// values and unknown ids named), the audit actor, export/import, what-if.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/import_hf.h"
#include "model/model.h"
#include "rules/sha256.h"
#include "rules/store.h"
#include "service/cmd_rules.h"
#include "service/scorer.h"

namespace sf::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out, err;
};

class RulesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("sf_rules_cli_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::create_directories(dir_);
    db_ = (dir_ / "rules.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(std::vector<std::string> args, bool with_db = true) {
    if (with_db) args.insert(args.begin(), {"--db", db_, "--actor", "tester"});
    std::ostringstream out, err;
    int code = cmd_rules(args, out, err);
    return {code, out.str(), err.str()};
  }
  std::string file(const std::string& name, const std::string& text) {
    std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  fs::path dir_;
  std::string db_;
};

bool has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

TEST_F(RulesCli, AddListShowRemove) {
  auto r = run({"add", "--domain", "example.com", "--name", "partners", "--sender",
                "*.partner.example", "--band", "0.8", "--priority", "10", "--action",
                "move Partners", "--action", "add-header X-Partner: yes"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "added rule 1 \"partners\" (domain example.com, priority 10)")) << r.out;
  r = run({"list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(has(r.out, "sender in {*.partner.example}, p in [0.8, 1]")) << r.out;
  EXPECT_TRUE(has(r.out, "-> move Partners, add-header X-Partner: yes")) << r.out;
  EXPECT_EQ(run({"list", "--user", "x@example.com"}).out, "no rules\n");
  r = run({"show", "1"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(has(r.out, "domain = \"example.com\"")) << r.out;
  EXPECT_TRUE(has(r.out, "[match]")) << r.out;
  r = run({"show", "1", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["match"]["probability"][0], 0.8);
  EXPECT_EQ(run({"disable", "1"}).code, 0);
  EXPECT_TRUE(has(run({"list"}).out, "[disabled]"));
  EXPECT_EQ(run({"remove", "1"}).code, 0);
  EXPECT_EQ(run({"list"}).out, "no rules\n");
}

TEST_F(RulesCli, UnknownIdsAndBadValuesAreNamed) {
  ASSERT_EQ(run({"init"}).code, 0);
  auto r = run({"show", "99"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "no rule with id 99")) << r.err;
  r = run({"remove", "99"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "no rule with id 99"));
  r = run({"remove", "abc"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "bad rule id 'abc'"));
  r = run({"set-threshold", "spam", "1.5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "'1.5'")) << r.err;
  r = run({"set-threshold", "hammy", "0.5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "bad threshold 'hammy'"));
  r = run({"add", "--action", "move"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "'move' needs an argument")) << r.err;
  r = run({"add", "--action", "accept", "--client-ip", "10.0.0.1/8"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "did you mean '10.0.0.0/8'")) << r.err;
  r = run({"add", "--action", "accept", "--priority", "high"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "bad value for --priority: 'high'")) << r.err;
  r = run({"list", "--frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "unknown option --frobnicate for 'list'")) << r.err;
  r = run({"explode"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "unknown command 'explode'"));
  r = run({"lists", "add", "block", "not a domain"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "'not a domain'")) << r.err;
  // None of that changed anything.
  rules::Store s(db_);
  EXPECT_EQ(s.generation(), 0u);
  EXPECT_TRUE(s.audit(10).empty());
}

TEST_F(RulesCli, HelpForEverySubcommand) {
  auto r = run({"--help"}, false);
  EXPECT_EQ(r.code, 0);
  for (const char* sub :
       {"init", "list", "show", "add", "remove", "enable", "disable", "set-threshold", "thresholds",
        "lists", "tenants", "settings", "test", "export", "import", "what-if", "audit"}) {
    EXPECT_TRUE(has(r.out, std::string("  ") + sub)) << sub;
    auto h = run({sub, "--help"}, false);
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_TRUE(has(h.out, std::string("usage: spamformer rules [--db PATH] ") + sub)) << h.out;
  }
  EXPECT_TRUE(has(run({"add", "--help"}, false).out, "--header-regex"));
  EXPECT_EQ(run({}, false).code, 2);
}

TEST_F(RulesCli, ReadCommandsDoNotCreateADatabase) {
  auto r = run({"list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "no rules database at " + db_)) << r.err;
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(RulesCli, CorruptAndNewerDatabasesAreRefused) {
  file("rules.db", std::string(10000, 'x'));
  auto r = run({"list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "corrupt")) << r.err;
  r = run({"add", "--action", "accept"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(fs::file_size(db_), 10000u);
}

TEST_F(RulesCli, TestPrintsTheDecisionAndReason) {
  ASSERT_EQ(run({"set-threshold", "--domain", "example.com", "spam", "0.8"}).code, 0);
  auto r = run({"test", "--from", "a@s.example", "--to", "bob@example.com", "--prob", "0.8",
                "--client-ip", "192.0.2.1", "--header", "Subject: hello", "--size", "1234"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["decision"]["rule"], "default:spam");
  EXPECT_EQ(j["decision"]["outcome"], "move Junk");
  EXPECT_TRUE(has(j["decision"]["reason"], "spam threshold 0.8 (domain example.com)"));
  EXPECT_EQ(j["model_needed"], true);
  EXPECT_EQ(j["context"]["headers"][0], "Subject: hello");
  EXPECT_EQ(j["context"]["probability"], 0.8);  // the float, written as its shortest decimal
  EXPECT_EQ(j["rules_generation"], 1);          // the rules after set-threshold
  r = run({"test", "--to", "bob@example.com", "--prob", "0.79999"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["decision"]["rule"], "default:suspect");
  r = run({"test", "--to", "bob@example.com", "--prob", "2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "bad value for --prob: '2'"));
  std::string ctx = file("ctx.json", R"({"recipient": "bob@example.com", "probability": 0.1})");
  r = run({"test", "--context", ctx});
  EXPECT_EQ(nlohmann::json::parse(r.out)["decision"]["rule"], "default:ham");
  r = run({"test", "--model", ctx, "--to", "bob@example.com"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--model goes with --message")) << r.err;
}

// The band the default rules give a probability (docs/rules.md).
std::string default_rule_for(double p) {
  return p >= 0.9 ? "default:spam" : p >= 0.5 ? "default:suspect" : "default:ham";
}

TEST_F(RulesCli, TestScoresAMessageFileWithTheModel) {
  ASSERT_EQ(run({"init"}).code, 0);
  // A tiny model with a random (seeded) head, so the probability is not a constant.
  model::ImportOptions io;
  io.head_init = "normal";
  io.head_seed = 7;
  io.max_tokens = 64;  // the tiny model's positions
  io.tail_tokens = 16;
  std::string model_path = (dir_ / "tiny.safetensors").string();
  model::save_model(model::import_hf(std::string(SF_TEST_DATA) + "/encoder/tiny_bert", io),
                    model_path);
  const std::string mail =
      "From: Ann Example <ann@sender.example>\r\nTo: Bob <bob@example.com>\r\n"
      "Subject: cheap pills\r\nMessage-ID: <m1@sender.example>\r\n\r\n"
      "Buy cheap pills now, limited offer.\r\n";
  std::string msg = file("m.eml", mail);

  auto r = run({"test", "--message", msg, "--model", model_path, "--backend", "cpu"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  // Sender and recipient come from the headers, the size from the file.
  EXPECT_EQ(j["context"]["sender"], "ann@sender.example");
  EXPECT_EQ(j["context"]["recipient"], "bob@example.com");
  EXPECT_EQ(j["context"]["size"], mail.size());
  EXPECT_TRUE(has(j["context"]["headers"].dump(), "Subject: cheap pills")) << j.dump();
  // The probability is the model's for this message.
  service::ScorerOptions so;
  so.model_path = model_path;
  so.backend = "cpu";
  auto scorer = service::open_scorer(so);
  model::Prepared prepared = scorer->pipeline->prepare(mail);
  std::vector<const model::Prepared*> one{&prepared};
  const float expected = scorer->score(one)[0];
  ASSERT_TRUE(j["message"]["probability"].is_number()) << j.dump();
  EXPECT_FLOAT_EQ(j["message"]["probability"].get<float>(), expected);
  EXPECT_EQ(j["message"]["model"], model_path);
  EXPECT_EQ(j["message"]["tokens"], prepared.ids.size());
  EXPECT_EQ(j["model_needed"], true);
  EXPECT_EQ(j["decision"]["rule"], default_rule_for(expected)) << j.dump();
  EXPECT_FALSE(j["decision"]["reason"].get<std::string>().empty());

  // The flags win over the headers; a threshold for the flag's domain decides
  // (spam from p >= 0: whatever the model says).
  ASSERT_EQ(run({"set-threshold", "--domain", "other.example", "suspect", "0"}).code, 0);
  ASSERT_EQ(run({"set-threshold", "--domain", "other.example", "spam", "0"}).code, 0);
  r = run({"test", "--message", msg, "--model", model_path, "--to", "carol@other.example"});
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["context"]["recipient"], "carol@other.example");
  EXPECT_EQ(j["decision"]["rule"], "default:spam") << j.dump();
  EXPECT_EQ(j["decision"]["outcome"], "move Junk");
  EXPECT_TRUE(has(j["decision"]["reason"], "(domain other.example)")) << j.dump();

  // --prob skips the model.
  r = run({"test", "--message", msg, "--prob", "0.95", "--model", (dir_ / "none").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["decision"]["rule"], "default:spam");
}

TEST_F(RulesCli, TestMessageDecidedByAListNeedsNoModel) {
  ASSERT_EQ(run({"lists", "add", "block", "sender.example"}).code, 0);
  std::string msg =
      file("m.eml", "From: ann@sender.example\nTo: bob@example.com\nSubject: hi\n\nhello\n");
  auto r = run({"test", "--message", msg, "--model", (dir_ / "missing.safetensors").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["decision"]["rule"], "block-list");
  EXPECT_EQ(j["model_needed"], false);
  EXPECT_FALSE(j["message"].contains("probability"));
}

TEST_F(RulesCli, TestMessageWithoutAModelSaysSo) {
  ASSERT_EQ(run({"init"}).code, 0);
  std::string msg = file("m.eml", "From: ann@sender.example\nTo: bob@example.com\n\nhello\n");
  std::string missing = (dir_ / "missing.safetensors").string();
  ::setenv("SPAMFORMER_MODEL", missing.c_str(), 1);
  ::setenv("SPAMFORMER_CONFIG", (dir_ / "no-config.toml").string().c_str(), 1);
  auto r = run({"test", "--message", msg});
  ::unsetenv("SPAMFORMER_MODEL");
  ::unsetenv("SPAMFORMER_CONFIG");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "no model available to score the message")) << r.err;
  EXPECT_TRUE(has(r.err, "--model FILE")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // No recipient anywhere: a usage error.
  std::string bare = file("bare.eml", "Subject: x\n\nhello\n");
  r = run({"test", "--message", bare, "--prob", "0.1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "To: header")) << r.err;
}

TEST_F(RulesCli, ListsAddShowRemoveAndPrecedence) {
  ASSERT_EQ(run({"lists", "add", "allow", "--user", "bob@example.com", "s.example"}).code, 0);
  ASSERT_EQ(
      run({"lists", "add", "block", "a@s.example", "192.0.2.0/24", "--comment", "abuse"}).code, 0);
  auto r = run({"lists", "show"});
  EXPECT_TRUE(has(r.out, "block  global  192.0.2.0/24  # abuse")) << r.out;
  EXPECT_TRUE(has(r.out, "allow  user bob@example.com  s.example")) << r.out;
  EXPECT_EQ(nlohmann::json::parse(run({"lists", "show", "block", "--json"}).out).size(), 2u);
  r = run({"test", "--from", "a@s.example", "--to", "bob@example.com", "--prob", "0.1"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["decision"]["rule"], "block-list");
  EXPECT_EQ(nlohmann::json::parse(r.out)["model_needed"], false);
  r = run({"test", "--from", "b@s.example", "--to", "bob@example.com", "--prob", "0.99"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["decision"]["rule"], "allow-list");
  r = run({"lists", "add", "block", "a@s.example"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "already on the block list"));
  r = run({"lists", "remove", "block", "nothere.example"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "nothere.example is not on the block list (global)"));
  EXPECT_EQ(run({"lists", "remove", "block", "A@S.example"}).code, 0);
}

TEST_F(RulesCli, AuditNamesTheActor) {
  ASSERT_EQ(run({"add", "--action", "accept"}).code, 0);
  setenv("SUDO_USER", "root-by-alice", 1);
  std::ostringstream out, err;
  ASSERT_EQ(cmd_rules({"--db", db_, "tenants", "add", "acme"}, out, err), 0) << err.str();
  unsetenv("SUDO_USER");
  auto r = run({"audit", "--json"});
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["actor"], "root-by-alice");
  EXPECT_EQ(j[0]["action"], "tenant.add");
  EXPECT_EQ(j[1]["actor"], "tester");
  EXPECT_EQ(j[1]["action"], "rule.add");
  EXPECT_TRUE(j[1]["before"].is_null());
  EXPECT_EQ(j[1]["after"]["actions"][0], "accept");
  EXPECT_TRUE(has(run({"audit"}).out, "tester  rule.add  rule 1"));
}

TEST_F(RulesCli, ExportImportRoundTrip) {
  ASSERT_EQ(run({"add", "--user", "bob@example.com", "--header-regex", "Subject: ^\\[ext\\]",
                 "--nocase", "--action", "tag-subject [EXT]"})
                .code,
            0);
  ASSERT_EQ(run({"set-threshold", "suspect", "0.4"}).code, 0);
  ASSERT_EQ(run({"settings", "suspect_flagged", "true"}).code, 0);
  ASSERT_EQ(run({"lists", "add", "vip", "--domain", "example.com", "boss.example"}).code, 0);
  auto exported = run({"export"});
  ASSERT_EQ(exported.code, 0);
  std::string path = file("rules.toml", exported.out);
  std::string other = (dir_ / "other.db").string();
  std::ostringstream out, err;
  ASSERT_EQ(cmd_rules({"--db", other, "import", path}, out, err), 0) << err.str();
  EXPECT_TRUE(has(out.str(), "imported 1 rules, 1 list entries, 1 threshold entries"));
  std::ostringstream again, err2;
  ASSERT_EQ(cmd_rules({"--db", other, "export"}, again, err2), 0);
  EXPECT_EQ(again.str(), exported.out);
  auto bad = file("bad.toml", "[[rules]]\nactions = [\"move\"]\n");
  auto r = run({"import", bad});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "'move' needs an argument")) << r.err;
  EXPECT_EQ(run({"export"}).out, exported.out);  // unchanged
}

TEST_F(RulesCli, WhatIfReportsChangedOutcomes) {
  ASSERT_EQ(run({"init"}).code, 0);
  {
    rules::Store s(db_);
    auto rs = rules::RuleSet::build(s.load_config());
    std::vector<rules::Verdict> log;
    int i = 0;
    for (float p : {0.1f, 0.6f, 0.85f, 0.95f}) {
      for (const char* to : {"a@example.com", "a@other.example"}) {
        rules::Context ctx;
        ctx.recipient = to;
        ctx.sender = "x@s.example";
        ctx.probability = p;
        log.push_back(rules::make_verdict(ctx, rules::evaluate(ctx, *rs),
                                          "<" + std::to_string(i++) + "@t>", "m", rules::now_ms()));
      }
    }
    s.add_verdicts(log);
  }
  auto r = run({"what-if", "--domain", "example.com", "--spam", "0.8", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total"], 8);
  EXPECT_EQ(j["changed"], 1);
  EXPECT_EQ(j["by_domain"]["example.com"], 1);
  EXPECT_EQ(j["by_transition"]["flag $Suspect -> move Junk"], 1);
  r = run({"what-if", "--spam", "0.5"});
  EXPECT_TRUE(has(r.out, "would change: 4")) << r.out;  // both 0.6 and both 0.85
  EXPECT_EQ(run({"what-if"}).code, 2);
  EXPECT_EQ(run({"what-if", "--remove-rule", "5"}).code, 1);
}

TEST_F(RulesCli, PlainEntryPointWritesToStdout) {
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  int code = cmd_rules({"--db", db_, "init"});
  std::cout.rdbuf(old);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(has(captured.str(), "schema version"));
}

}  // namespace
}  // namespace sf::cli
