// main.cpp: the `spamformer` command: dispatches to a subcommand.
//
// Exit status: 0 success, 1 a failure the message explains (missing model
// file, unreadable input, bad config), 2 a usage error.
#include <iostream>
#include <string>
#include <vector>

#include "service/cli.h"
#include "service/cmd_bench.h"
#include "service/cmd_rules.h"
#include "service/commands.h"
#include "service/train_commands.h"

namespace {

struct Subcommand {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const Subcommand kSubcommands[] = {
    {"serve", sf::cli::cmd_serve, "run the daemon: spamd protocol and HTTP API"},
    {"classify", sf::cli::cmd_classify, "score messages (files or stdin), one JSON line each"},
    {"eval", sf::cli::cmd_eval, "score a labelled manifest and report AUC, error rates, speed"},
    {"rules", sf::cli::cmd_rules, "list, change, test and what-if the business rules (SQLite)"},
    {"prepare-data", sf::cli::cmd_prepare_data, "tokenize labelled mail into a token cache"},
    {"train", sf::cli::cmd_train, "train and calibrate a model on a token cache"},
    {"import-hf", sf::cli::cmd_import_hf, "convert a Hugging Face BERT checkpoint to a model file"},
    {"export-head", sf::cli::cmd_export_head, "write a model file's trained head to a head file"},
    {"bench", sf::cli::cmd_bench, "model-only speed: msgs/s, batch-1 latency, cold start, energy"},
    {"version", sf::cli::cmd_version, "print version and build facts"},
};

void print_help(std::ostream& out) {
  out << "usage: spamformer COMMAND [OPTIONS]\n\nSpamformer: spam classification with a "
         "quantized transformer.\n\ncommands:\n";
  for (const auto& c : kSubcommands) {
    std::string n = c.name;
    out << "  " << n << std::string(n.size() < 14 ? 14 - n.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\n`spamformer COMMAND --help` describes each command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") args[0] = "version";
  for (const auto& c : kSubcommands) {
    if (args[0] != c.name) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
      return c.run(rest);
    } catch (const sf::cli::UsageError& e) {
      std::cerr << "spamformer " << c.name << ": " << e.what() << "\n"
                << "(see `spamformer " << c.name << " --help`)\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "spamformer " << c.name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "spamformer: unknown command '" << args[0] << "'\n\n";
  print_help(std::cerr);
  return 2;
}
