// features.h: pooled sentence vectors of cached messages, computed once with
// an inference Backend and kept in a file, for head-only training (the
// encoder frozen).
//
// What it does: runs Backend::pooled over the chosen messages of a token cache
// in batches (progress callback), and saves/loads the vectors in a small
// binary file keyed by a fingerprint of the encoder weights and of the
// messages (ids and labels), so a stale file is never used.
// Promises: rows are in the order of the given message list.
// Failure: BackendError from the backend; std::runtime_error for an
// unreadable or truncated features file (load returns false when the file is
// absent or its fingerprint differs: then the caller recomputes).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/backend.h"
#include "model/model.h"
#include "training/token_cache.h"

namespace sf::train {

// FNV-1a over every encoder tensor (not the classifier) and the architecture.
uint64_t encoder_fingerprint(const model::Model& m);
// FNV-1a over the ids and labels of the listed messages.
uint64_t messages_fingerprint(const TokenCache& c, const std::vector<size_t>& which);

std::vector<float> compute_pooled(model::Backend& backend, const TokenCache& c,
                                  const std::vector<size_t>& which, int hidden, size_t batch,
                                  const std::function<void(size_t, size_t)>& progress = {});

void save_features(const std::string& path, uint64_t key, int hidden, const std::vector<float>& x);
// True and fills x when the file exists with this key and hidden size.
bool load_features(const std::string& path, uint64_t key, int hidden, std::vector<float>& x);

}  // namespace sf::train
