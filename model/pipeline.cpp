// pipeline.cpp: see pipeline.h.
#include "model/pipeline.h"

#include <algorithm>
#include <stdexcept>

namespace sf::model {
namespace {

tok::WordPiece make_tokenizer(const Model& m) {
  tok::Options o;
  o.lowercase = m.config.lowercase;
  o.strip_accents = m.config.strip_accents;
  try {
    return tok::WordPiece(m.vocab, o);
  } catch (const std::exception& e) {
    throw ModelError(std::string("model vocabulary is unusable: ") + e.what());
  }
}

tok::Truncation make_truncation(const Config& c) {
  if (c.max_tokens < 3 || c.max_tokens > c.max_positions)
    throw ModelError("tokenizer.max_tokens " + std::to_string(c.max_tokens) +
                     " must be in [3, arch.max_positions=" + std::to_string(c.max_positions) + "]");
  if (c.tail_tokens < 0 || c.tail_tokens > c.max_tokens - 2)
    throw ModelError("tokenizer.tail_tokens " + std::to_string(c.tail_tokens) +
                     " must be in [0, max_tokens - 2]");
  tok::Truncation t;
  t.max_tokens = static_cast<size_t>(c.max_tokens);
  t.tail_tokens = static_cast<size_t>(c.tail_tokens);
  return t;
}

}  // namespace

Pipeline::Pipeline(const Model& m, mail::Limits limits)
    : limits_(limits), tokenizer_(make_tokenizer(m)), truncation_(make_truncation(m.config)) {}

std::vector<int32_t> Pipeline::tokenize_text(std::string_view text, bool* truncated) const {
  return tokenizer_.encode(text, truncation_, truncated);
}

Prepared Pipeline::prepare(std::string_view raw) const {
  Prepared p;
  p.input_bytes = raw.size();
  mail::Extracted e = mail::extract(raw, limits_);
  p.mail_flags = e.flags;
  p.ids = tokenize_text(e.model_text(), &p.tokens_truncated);
  return p;
}

std::vector<std::string> prepared_flag_names(const Prepared& p) {
  std::vector<std::string> names = mail::flag_names(p.mail_flags);
  if (p.tokens_truncated) names.emplace_back("tokens_truncated");
  return names;
}

}  // namespace sf::model
