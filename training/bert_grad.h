// bert_grad.h: the encoder + head of model.h as a trainable function: flat
// parameters, forward with saved activations, backward to every parameter.
//
// What it does: `ParamLayout` lays out every tensor of weight_names(config)
// (same names, shapes, order) in one flat buffer, with a weight-decay flag per
// tensor (every ".weight" except LayerNorm's). `BertGrad<T>` runs the model
// exactly as the CPU reference encoder does (post-LN BERT, exact GELU, token
// type 0, positions restarting per sequence, mean or [CLS] pooling, linear
// head) over a padding-free batch, keeps the activations, and computes the
// gradient of the class-weighted mean cross-entropy with respect to every
// parameter. No dropout (deterministic training).
// Promises: float and double instances compute the same function; gradients
// are held to finite differences by tests/test_training_grad.cpp; logits agree
// with model::CpuEncoder to fp32 rounding.
// Failure: std::invalid_argument for a batch the model cannot take (token id
// outside the vocabulary, empty or overlong sequence): the caller's fault.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/model.h"

namespace sf::train {

struct ParamLayout {
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    size_t offset = 0, size = 0;
    bool decay = false;
  };
  std::vector<Entry> entries;
  std::map<std::string, size_t> index;
  size_t total = 0;

  explicit ParamLayout(const model::Config& c);
  size_t offset(const std::string& name) const;  // throws std::out_of_range
  std::vector<uint8_t> decay_mask() const;
};

// The model's tensors as one flat buffer (layout order).
std::vector<float> params_from_model(const model::Model& m, const ParamLayout& l);
// Writes a flat buffer back into the model's tensors.
void params_to_model(const std::vector<float>& p, const ParamLayout& l, model::Model& m);
// A freshly initialised model's parameters: N(0, std) weights and embeddings,
// zero biases, LayerNorm gain 1 and bias 0 (for tests and tiny models).
std::vector<float> init_params(const ParamLayout& l, uint64_t seed, double std = 0.02);

template <typename T>
class BertGrad {
 public:
  explicit BertGrad(const model::Config& c);
  const model::Config& config() const { return c_; }
  const ParamLayout& layout() const { return layout_; }

  // Forward over the packed batch; logits: size() * num_labels. Keeps the
  // activations for backward().
  void forward(const std::vector<T>& params, const std::vector<int32_t>& tokens,
               const std::vector<int32_t>& offsets, std::vector<T>& logits);
  // Loss of the last forward() and its gradient, ADDED to grads (layout size).
  // weights: per sequence (empty: all 1).
  T backward(const std::vector<T>& params, const std::vector<int>& labels,
             const std::vector<T>& weights, std::vector<T>& grads);
  // Loss only (no gradient), from logits of the last forward().
  T loss(const std::vector<int>& labels, const std::vector<T>& weights) const;

 private:
  struct LayerActs {
    std::vector<T> q, k, v, probs, ctx, attn_sum, ln1_mean, ln1_rstd, h1, ff1, gelu, ff_sum,
        ln2_mean, ln2_rstd, out;
  };
  struct LayerOff {
    size_t q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_g, ln1_b, i_w, i_b, f_w, f_b, ln2_g, ln2_b;
  };

  model::Config c_;
  ParamLayout layout_;
  size_t word_, pos_, type_, emb_g_, emb_b_, cls_w_, cls_b_;
  std::vector<LayerOff> lo_;
  // Saved activations of the last forward().
  std::vector<int32_t> tokens_, offsets_;
  std::vector<T> emb_sum_, emb_mean_, emb_rstd_, x0_;
  std::vector<LayerActs> acts_;
  std::vector<T> pooled_, logits_;
  std::vector<T> scratch_;
};

extern template class BertGrad<float>;
extern template class BertGrad<double>;

}  // namespace sf::train
