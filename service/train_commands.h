// train_commands.h: the training subcommands of `spamformer` (docs/training.md).
// Each takes the arguments after its name and returns the exit status
// (0 ok, 1 a failure the message explains, 2 usage error).
#pragma once

#include <string>
#include <vector>

namespace sf::cli {

int cmd_prepare_data(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);

}  // namespace sf::cli
