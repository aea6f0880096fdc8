// cpu_backend.h: the fp32 CPU reference encoder (OpenBLAS), the one every other
// backend is held to by the conformance test.
//
// What it does: runs a BERT-family encoder (post-LN, exact erf GELU, absolute
// positions, token type 0) over padding-free batches: every linear layer is one
// row-major sgemm over all tokens of the batch; attention runs per sequence and head
// (each sequence attends only to its own tokens, positions restart at 0 for each), so
// a sequence's result does not depend on what else is in the batch. On top: mean or
// [CLS] pooling (config.pooling) and the classification head.
// Promises: outputs agree with Hugging Face `BertModel` (fp32, eager attention) to
// fp32 rounding (the tests hold hidden states to 1e-4 max-abs). Every method is const
// and safe to call from several threads at once: each call allocates its own scratch
// and its own worker threads. The encoder owns a copy of the weights; the Model may be
// destroyed after construction.
// Failure: the constructor throws ModelError when a tensor is missing or has the wrong
// shape, or the config names an activation or pooling it does not implement (the model
// file's fault). The run methods throw BackendError for bad input (token id outside
// [0, vocab_size), an empty sequence or one longer than max_positions, inconsistent
// batch offsets, an output span of the wrong size): the caller's fault, named in the
// message.
// Threads: the constructor sets OpenBLAS's thread count, which is process-wide
// (openblas_set_num_threads); the same count is used for attention and the
// element-wise steps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/backend.h"
#include "model/model.h"

namespace sf::model {

class CpuEncoder {
 public:
  // threads <= 0: all cores (std::thread::hardware_concurrency()).
  explicit CpuEncoder(const Model& m, int threads = 0);

  const Config& config() const { return config_; }
  int threads() const { return threads_; }

  // Last hidden state of ONE sequence: out = [ids.size(), hidden], row-major.
  void hidden_states(std::span<const int32_t> ids, std::vector<float>& out) const;
  // Last hidden state of every token of a batch: out = [total_tokens, hidden].
  void hidden_states(const Batch& batch, std::vector<float>& out) const;
  // Pooled vector per sequence: out.size() == batch.size() * hidden.
  void pooled(const Batch& batch, std::span<float> out) const;
  // Head logits per sequence: out.size() == batch.size() * num_labels.
  void logits(const Batch& batch, std::span<float> out) const;

  // Throws BackendError naming the first problem (see the header comment).
  void validate(const Batch& batch) const;

 private:
  struct Layer {
    std::vector<float> qkv_w;  // [3 * hidden, hidden]: query, key, value rows stacked
    std::vector<float> qkv_b;  // [3 * hidden]
    std::vector<float> attn_out_w, attn_out_b;  // [hidden, hidden], [hidden]
    std::vector<float> ln1_g, ln1_b;            // [hidden]
    std::vector<float> ffn_in_w, ffn_in_b;      // [intermediate, hidden], [intermediate]
    std::vector<float> ffn_out_w, ffn_out_b;    // [hidden, intermediate], [hidden]
    std::vector<float> ln2_g, ln2_b;            // [hidden]
  };

  void forward(const Batch& batch, std::vector<float>& x) const;
  void pool_into(const Batch& batch, const std::vector<float>& hidden, std::span<float> out) const;

  Config config_;
  int threads_ = 1;
  std::vector<float> word_emb_, pos_emb_, type0_emb_;  // type0: token type 0 row only
  std::vector<float> emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
  std::vector<float> head_w_, head_b_;  // [num_labels, hidden], [num_labels]
};

}  // namespace sf::model
