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
