// model_file.h: the checks and metadata mapping behind load_model/save_model
// (model.h), shared with the importers so that every path into a `Model`
// applies the same rules. Implemented in model_file.cpp.
// Failure: both throw ModelError with a message that says what is wrong (the
// caller prefixes the file name).
#pragma once

#include <map>
#include <string>

#include "model/model.h"

namespace sf::model {

// Throws ModelError unless the config is supported and sane (positive sizes
// under generous caps, heads divide hidden, known activation/pooling/head
// state, 0 <= spam_label < num_labels, max_tokens <= max_positions, ...).
void check_config(const Config& c);
// check_config, plus: vocabulary size equals vocab_size and no token is empty
// or holds '\n'; every tensor of weight_names(config) present with the exact
// shape and data size; no other tensor; every value finite.
void check_model(const Model& m);
// The metadata keys that describe `c` (one entry per Config field), as the
// model file stores them.
std::map<std::string, std::string> config_metadata(const Config& c);

}  // namespace sf::model
