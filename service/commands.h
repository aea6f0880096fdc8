// commands.h: the `spamformer` subcommands. Each takes the arguments after
// its name and returns the process exit status (0 ok, 1 failure, 2 usage).
#pragma once

#include <string>
#include <vector>

namespace sf::cli {

int cmd_classify(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_import_hf(const std::vector<std::string>& args);
int cmd_export_head(const std::vector<std::string>& args);
int cmd_version(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);  // serve_main.cpp

}  // namespace sf::cli
