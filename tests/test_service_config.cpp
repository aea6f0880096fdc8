// Config parsing (service/config.h) and the command-line parser (service/cli.h).
#include <gtest/gtest.h>

#include <fstream>

#include "service/cli.h"
#include "service/config.h"

using sf::service::ConfigError;
using sf::service::parse_config;

namespace {
std::string error_of(const std::string& toml) {
  try {
    parse_config(toml, "t.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, DefaultsWhenEmpty) {
  auto c = parse_config("", "t.toml");
  EXPECT_EQ(c.limits.max_input_bytes, sf::mail::Limits{}.max_input_bytes);
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_TRUE(c.model_path.empty());
}

TEST(Config, ReadsValues) {
  auto c = parse_config(
      "[model]\npath = \"/m.safetensors\"\ncpu_threads = 3\n[limits]\nmax_parts = 7\n"
      "max_input_bytes = 4096\n",
      "t.toml");
  EXPECT_EQ(c.model_path, "/m.safetensors");
  EXPECT_EQ(c.cpu_threads, 3);
  EXPECT_EQ(c.limits.max_parts, 7u);
  EXPECT_EQ(c.limits.max_input_bytes, 4096u);
}

TEST(Config, RefusesUnknownKeyNamingIt) {
  EXPECT_NE(error_of("[limits]\nmax_partz = 3\n").find("limits.max_partz: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("[modle]\n").find("modle: unknown table"), std::string::npos);
}

TEST(Config, RefusesOutOfRangeAndWrongType) {
  EXPECT_NE(error_of("[limits]\nmax_depth = 0\n").find("limits.max_depth"), std::string::npos);
  EXPECT_NE(error_of("[limits]\nmax_depth = \"8\"\n").find("must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of("[model]\npath = 3\n").find("model.path: must be a string"),
            std::string::npos);
}

TEST(Config, SyntaxErrorGivesLine) {
  EXPECT_NE(error_of("[model]\n\npath = \n").find("t.toml:3"), std::string::npos)
      << error_of("[model]\n\npath = \n");
}

TEST(Config, ShippedConfigFileParses) {
  auto c = sf::service::load_config(std::string(SF_TEST_DATA) + "/../../config/spamformer.toml");
  EXPECT_EQ(c.limits.max_input_bytes, 2097152u);
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_THROW(sf::service::load_config("/nonexistent/spamformer.toml"), ConfigError);
}

namespace {
const sf::cli::CommandSpec kSpec{"t", "", "", "",
                                 {{"n", "N", "", ""}, {"flag", "", "", ""}, {"s", "S", "", ""}}};
}

TEST(Cli, ParsesOptionsFlagsAndPositionals) {
  sf::cli::Args a(kSpec, {"--n", "5", "x", "--flag", "--s=hi", "-", "--", "--n"});
  EXPECT_EQ(a.get_int("n", 0, 0, 10), 5);
  EXPECT_TRUE(a.flag("flag"));
  EXPECT_EQ(a.get_or("s", ""), "hi");
  EXPECT_EQ(a.positional(), (std::vector<std::string>{"x", "-", "--n"}));
}

TEST(Cli, RefusesUnknownOptionAndMissingValue) {
  EXPECT_THROW(sf::cli::Args(kSpec, {"--nope"}), sf::cli::UsageError);
  EXPECT_THROW(sf::cli::Args(kSpec, {"--n"}), sf::cli::UsageError);
  EXPECT_THROW(sf::cli::Args(kSpec, {"--flag=1"}), sf::cli::UsageError);
}

TEST(Cli, RefusesBadNumbers) {
  sf::cli::Args a(kSpec, {"--n", "5x"});
  EXPECT_THROW(a.get_int("n", 0, 0, 10), sf::cli::UsageError);
  sf::cli::Args b(kSpec, {"--n", "11"});
  EXPECT_THROW(b.get_int("n", 0, 0, 10), sf::cli::UsageError);
}

TEST(Cli, HelpListsEveryOption) {
  std::string u = sf::cli::usage(kSpec);
  for (const char* o : {"--n N", "--flag", "--s S", "--help"})
    EXPECT_NE(u.find(o), std::string::npos) << o;
}

// ---- the daemon's tables ([server], [scheduler], [verdict], [spamd], [http])

TEST(Config, DaemonDefaultsAreLoopback) {
  auto c = parse_config("", "t.toml");
  EXPECT_EQ(c.spamd.listen, std::vector<std::string>{"127.0.0.1:7830"});
  EXPECT_EQ(c.http.listen, std::vector<std::string>{"127.0.0.1:7831"});
  EXPECT_EQ(c.scheduler.failure_policy, "open");
  EXPECT_TRUE(c.http.token_file.empty());
}

TEST(Config, ShippedConfigDocumentsEveryDaemonDefault) {
  auto f = sf::service::load_config(std::string(SF_TEST_DATA) + "/../../config/spamformer.toml");
  sf::service::Config d;
  EXPECT_EQ(f.server.io_threads, d.server.io_threads);
  EXPECT_EQ(f.server.prep_threads, d.server.prep_threads);
  EXPECT_EQ(f.server.shutdown_timeout_ms, d.server.shutdown_timeout_ms);
  EXPECT_EQ(f.server.log_level, d.server.log_level);
  EXPECT_EQ(f.server.log_scans, d.server.log_scans);
  EXPECT_EQ(f.server.feedback_db, d.server.feedback_db);
  EXPECT_EQ(f.server.rules_db, d.server.rules_db);
  EXPECT_EQ(f.scheduler.max_batch, d.scheduler.max_batch);
  EXPECT_EQ(f.scheduler.max_wait_us, d.scheduler.max_wait_us);
  EXPECT_EQ(f.scheduler.queue_capacity, d.scheduler.queue_capacity);
  EXPECT_EQ(f.scheduler.deadline_ms, d.scheduler.deadline_ms);
  EXPECT_EQ(f.scheduler.failure_policy, d.scheduler.failure_policy);
  EXPECT_EQ(f.verdict.spam_threshold, d.verdict.spam_threshold);
  EXPECT_EQ(f.verdict.suspect_threshold, d.verdict.suspect_threshold);
  EXPECT_EQ(f.verdict.spam_folder, d.verdict.spam_folder);
  EXPECT_EQ(f.verdict.suspect_keyword, d.verdict.suspect_keyword);
  EXPECT_EQ(f.spamd.listen, d.spamd.listen);
  EXPECT_EQ(f.spamd.socket, d.spamd.socket);
  EXPECT_EQ(f.spamd.socket_mode, d.spamd.socket_mode);
  EXPECT_EQ(f.spamd.max_message_bytes, d.spamd.max_message_bytes);
  EXPECT_EQ(f.spamd.max_header_bytes, d.spamd.max_header_bytes);
  EXPECT_EQ(f.spamd.read_timeout_ms, d.spamd.read_timeout_ms);
  EXPECT_EQ(f.spamd.write_timeout_ms, d.spamd.write_timeout_ms);
  EXPECT_EQ(f.spamd.max_connections, d.spamd.max_connections);
  EXPECT_EQ(f.http.listen, d.http.listen);
  EXPECT_EQ(f.http.token_file, d.http.token_file);
  EXPECT_EQ(f.http.max_body_bytes, d.http.max_body_bytes);
  EXPECT_EQ(f.http.max_header_bytes, d.http.max_header_bytes);
  EXPECT_EQ(f.http.read_timeout_ms, d.http.read_timeout_ms);
  EXPECT_EQ(f.http.write_timeout_ms, d.http.write_timeout_ms);
  EXPECT_EQ(f.http.idle_timeout_ms, d.http.idle_timeout_ms);
  EXPECT_EQ(f.http.max_connections, d.http.max_connections);
}

TEST(Config, ReadsDaemonValues) {
  auto c = parse_config(
      "[spamd]\nlisten = [\"[::1]:0\", \"127.0.0.2:783\"]\nsocket = \"/run/s.sock\"\n"
      "socket_mode = \"0600\"\n[scheduler]\nfailure_policy = \"closed\"\nmax_wait_us = 0\n"
      "[verdict]\nspam_threshold = 0.8\nsuspect_threshold = 0.4\n[http]\nlisten = []\n"
      "[server]\nlog_scans = false\n",
      "t.toml");
  EXPECT_EQ(c.spamd.listen, (std::vector<std::string>{"[::1]:0", "127.0.0.2:783"}));
  EXPECT_EQ(c.spamd.socket_mode, 0600);
  EXPECT_EQ(c.scheduler.failure_policy, "closed");
  EXPECT_EQ(c.scheduler.max_wait_us, 0);
  EXPECT_DOUBLE_EQ(c.verdict.spam_threshold, 0.8);
  EXPECT_TRUE(c.http.listen.empty());
  EXPECT_FALSE(c.server.log_scans);
  auto hp = sf::service::parse_host_port("[::1]:7830", "k");
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 7830);
}

TEST(Config, RefusesBadDaemonValuesNamingTheKey) {
  EXPECT_NE(error_of("[scheduler]\nfailure_policy = \"maybe\"\n").find("scheduler.failure_policy"),
            std::string::npos);
  EXPECT_NE(error_of("[spamd]\nlisten = [\"localhost\"]\n").find("spamd.listen"), std::string::npos);
  EXPECT_NE(error_of("[spamd]\nlisten = [\"::1:783\"]\n").find("[addr]:port"), std::string::npos);
  EXPECT_NE(error_of("[http]\nlisten = [\"127.0.0.1:99999\"]\n").find("http.listen"),
            std::string::npos);
  EXPECT_NE(error_of("[spamd]\nsocket_mode = \"rw\"\n").find("spamd.socket_mode"), std::string::npos);
  EXPECT_NE(error_of("[spamd]\nmax_conections = 3\n").find("spamd.max_conections: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("[verdict]\nspam_threshold = 0.4\n").find("verdict.suspect_threshold"),
            std::string::npos);
  EXPECT_NE(error_of("[verdict]\nspam_threshold = 1.5\n").find("verdict.spam_threshold"),
            std::string::npos);
  EXPECT_NE(error_of("[server]\nlog_level = \"loud\"\n").find("server.log_level"),
            std::string::npos);
  EXPECT_NE(error_of("[scheduler]\nmax_batch = 0\n").find("scheduler.max_batch"), std::string::npos);
}
