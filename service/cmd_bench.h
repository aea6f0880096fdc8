// cmd_bench.h: `spamformer bench`: model-only speed of the inference backends (messages/s
// from pre-tokenized input, batch-1 latency, cold start, GPU energy per message); see
// cmd_bench.cpp.
#pragma once

#include <string>
#include <vector>

namespace sf::cli {

// args: what follows `spamformer bench`. Exit status 0 done, 1 a backend failed, 2 usage.
int cmd_bench(const std::vector<std::string>& args);

}  // namespace sf::cli
