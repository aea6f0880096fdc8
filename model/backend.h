// backend.h: the interface every inference backend implements (CPU
// reference, CUDA). The model is described once (model.h); a backend
// implements the operations for one device.
//
// Batches are padding-free: the token ids of all sequences are packed end to
// end, with offsets[i]..offsets[i+1] the tokens of sequence i. Each sequence
// already starts with [CLS] and ends with [SEP] (the tokenizer adds them).
// Promises: encode() fills num_labels logits per sequence (raw, before the
// calibration temperature). Backends are held to the CPU reference by the
// conformance test (tests/test_backend_conformance.cpp).
// Failure: encode() throws BackendError when the device fails (out of
// memory, driver error); the caller decides what happens to the mail.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/model.h"

namespace sf::model {

struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Batch {
  std::vector<int32_t> tokens;        // packed token ids
  std::vector<int32_t> offsets{0};    // size() + 1 entries

  size_t size() const { return offsets.size() - 1; }
  size_t total_tokens() const { return tokens.size(); }
  int32_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
  std::span<const int32_t> sequence(size_t i) const {
    return {tokens.data() + offsets[i], static_cast<size_t>(length(i))};
  }
  void add(std::span<const int32_t> ids) {
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    offsets.push_back(static_cast<int32_t>(tokens.size()));
  }
  void clear() {
    tokens.clear();
    offsets.assign(1, 0);
  }
};

struct Capabilities {
  std::string name;         // "cpu-fp32", "cuda-fp32", ...
  std::string device;       // "CPU (2 threads)", "NVIDIA H100 80GB HBM3", ...
  size_t max_batch = 0;     // sequences per encode() call, 0 = unbounded
  int max_sequence = 512;   // tokens per sequence
  bool int8 = false;        // runs INT8 weights natively
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Capabilities capabilities() const = 0;
  // Copies (or converts) the weights to the device. Called once before encode().
  virtual void load(const Model& m) = 0;
  // logits: batch.size() * num_labels floats, row per sequence.
  virtual void encode(const Batch& batch, std::span<float> logits) = 0;
  // The pooled sentence vector per sequence (batch.size() * hidden floats):
  // what the head sees. Used by the conformance test and by training.
  virtual void pooled(const Batch& batch, std::span<float> out) = 0;
};

// Checks a batch against the model before any backend runs it: offsets cover
// the packed tokens, every sequence has 1..max_positions tokens, every id is in
// the vocabulary. Throws BackendError naming the first problem (the caller's
// fault); returns the longest sequence. Every backend calls this one check.
int validate_batch(const Batch& batch, const Config& config);

// The fp32 CPU reference backend (OpenBLAS). threads = 0: all cores.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

// p(spam) from one row of logits, with the model's calibration temperature.
float spam_probability(const Config& c, std::span<const float> logits);

}  // namespace sf::model
