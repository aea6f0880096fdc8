// pipeline.h: raw mail -> model input, and model output -> probability.
//
// What it does: ties the stages of model/ together for one model file:
// extraction (mail.h) -> model text -> WordPiece ids with [CLS]/[SEP],
// truncated head + tail as the model file's tokenizer settings say
// (tokenizer.h); and, after a backend has produced logits, the calibrated
// probability (backend.h spam_probability).
// Promises: prepare() never throws on bad mail (extraction flags say what was
// wrong) and is safe to call from many threads at once; the ids always fit the
// model (length <= tokenizer.max_tokens <= arch.max_positions).
// Failure: the constructor throws ModelError when the model's vocabulary lacks
// the special tokens or its settings are inconsistent (the model file's fault).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/mail.h"
#include "model/model.h"
#include "model/tokenizer.h"

namespace sf::model {

struct Prepared {
  std::vector<int32_t> ids;   // [CLS] ... [SEP]
  uint32_t mail_flags = 0;    // sf::mail::Flag bits
  bool tokens_truncated = false;
  size_t input_bytes = 0;
};

class Pipeline {
 public:
  Pipeline(const Model& m, mail::Limits limits);
  Prepared prepare(std::string_view raw_message) const;
  // Tokenizes text that is already extracted (used by tests and tools).
  std::vector<int32_t> tokenize_text(std::string_view text, bool* truncated = nullptr) const;
  const tok::WordPiece& tokenizer() const { return tokenizer_; }
  const mail::Limits& limits() const { return limits_; }

 private:
  mail::Limits limits_;
  tok::WordPiece tokenizer_;
  tok::Truncation truncation_;
};

// Flag names of a prepared message: mail flags plus "tokens_truncated".
std::vector<std::string> prepared_flag_names(const Prepared& p);

}  // namespace sf::model
