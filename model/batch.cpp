// batch.cpp: validate_batch (backend.h), the one input check every backend uses.
#include <algorithm>
#include <string>

#include "model/backend.h"

namespace sf::model {

int validate_batch(const Batch& batch, const Config& config) {
  const auto& off = batch.offsets;
  if (off.empty() || off.front() != 0 || static_cast<size_t>(off.back()) != batch.tokens.size()) {
    throw BackendError("batch offsets do not cover the packed tokens (" +
                       std::to_string(off.size()) + " offsets, " +
                       std::to_string(batch.tokens.size()) + " tokens)");
  }
  int max_len = 0;
  for (size_t s = 0; s < batch.size(); ++s) {
    const int32_t len = off[s + 1] - off[s];
    if (len < 1 || len > config.max_positions) {
      throw BackendError("sequence " + std::to_string(s) + " has " + std::to_string(len) +
                         " tokens; the model takes 1 to " + std::to_string(config.max_positions));
    }
    max_len = std::max(max_len, static_cast<int>(len));
    for (int32_t i = 0; i < len; ++i) {
      const int32_t id = batch.tokens[static_cast<size_t>(off[s] + i)];
      if (id < 0 || id >= config.vocab_size) {
        throw BackendError("sequence " + std::to_string(s) + ": token id " + std::to_string(id) +
                           " at position " + std::to_string(i) + " is outside the vocabulary [0, " +
                           std::to_string(config.vocab_size) + ")");
      }
    }
  }
  return max_len;
}

}  // namespace sf::model
