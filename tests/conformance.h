// conformance.h: holds any Backend to the fp32 CPU reference (CpuEncoder).
//
// What it does: runs the same token sequences through the reference encoder (all of
// them in one batch) and through the backend under test (in batches of 1, 7 and 64
// sequences, so batch composition and size are exercised), and compares the pooled
// vectors and the logits element by element.
// Promises: one GoogleTest failure (EXPECT_*) per quantity and batch size that is out of
// tolerance, naming the worst element (batch size, sequence, its length, component,
// backend value, reference value); a backend that throws fails the test with the
// message. It uses nothing of GoogleTest beyond EXPECT/ADD_FAILURE/SCOPED_TRACE, so any
// backend's test (CPU, CUDA, ...) can include it.
// Failure: the reference throws (ModelError/BackendError) on an unusable model or bad
// sequences: that is the test's own mistake and fails it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/backend.h"
#include "model/model.h"

namespace sf::test {

// The tiny random BERT fixture (tests/data/encoder/tiny_bert: 2 layers, hidden 32,
// 4 heads, 64 positions, vocabulary 120, random classifier head), imported with
// import_hf. Its PyTorch outputs are in tests/data/encoder/tiny_bert_golden.*.
sf::model::Model load_tiny_bert();

// The all-MiniLM-L6-v2 Hugging Face directory the real-model tests use: the env variable
// SPAMFORMER_BASE_MODEL_DIR, else $HOME/.cache/spamformer/all-MiniLM-L6-v2; "" when that
// directory has no config.json (the tests then GTEST_SKIP).
std::string base_model_dir();

// Batch sizes the backend is driven with, in this order.
inline constexpr size_t kConformanceBatchSizes[] = {1, 7, 64};

// `count` sequences of random token ids (fixed `seed`) with varied lengths between 1
// and `max_len` (0: the model's max_positions): the shortest and longest possible
// lengths are always among them. Each sequence of length >= 2 starts with [CLS] and
// ends with [SEP] when the vocabulary has them; other ids avoid the special tokens.
std::vector<std::vector<int32_t>> make_conformance_sequences(const sf::model::Model& m,
                                                             size_t count = 64, int max_len = 0,
                                                             uint32_t seed = 1234);

// The largest |a - b| over two equally long arrays, and where it is.
struct WorstDiff {
  float diff = 0.0f;
  size_t index = 0;
};
WorstDiff max_abs_diff(const float* a, const float* b, size_t n);

// Loads `m` into `b` (b.load(m)) and checks b's pooled vectors against the reference
// within `tol_pooled` and b's logits within `tol_logit` (absolute), for every batch size
// in kConformanceBatchSizes. Prints the worst difference seen for each.
void expect_backend_matches_reference(sf::model::Backend& b, const sf::model::Model& m,
                                      const std::vector<std::vector<int32_t>>& seqs,
                                      float tol_logit, float tol_pooled);

}  // namespace sf::test
