// model.h: the encoder model as the rest of the project sees it.
//
// What it does: describes a BERT-family encoder with a classification head
// (architecture, tokenizer settings, calibration, provenance) and holds its
// weights as fp32 tensors, named once here (`weight_names`), so every backend
// and the model-file code agree on them.
// Promises: a `Model` returned by `load_model` is complete and consistent
// (every tensor present with the shape the config implies); backends never
// need to re-check shapes.
// Failure: `load_model` throws `ModelError` naming the file and the problem
// (missing tensor, wrong shape or dtype, bad metadata). That is the model
// file's fault or the operator's, never a bug to crash on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf::model {

struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Architecture and everything a runner needs besides the weights.
// Metadata keys in the model file are listed beside each field.
struct Config {
  int layers = 6;              // "arch.layers"
  int hidden = 384;            // "arch.hidden"
  int heads = 12;              // "arch.heads"
  int intermediate = 1536;     // "arch.intermediate"
  int max_positions = 512;     // "arch.max_positions"
  int vocab_size = 30522;      // "arch.vocab_size"
  int type_vocab_size = 2;     // "arch.type_vocab_size"
  float layer_norm_eps = 1e-12f;  // "arch.layer_norm_eps"
  std::string activation = "gelu";  // "arch.activation": exact (erf) GELU
  std::string pooling = "mean";     // "head.pooling": "mean" over tokens, or "cls"
  int num_labels = 2;               // "head.num_labels"
  int spam_label = 1;               // "head.spam_label": index of the spam logit
  std::string head_state = "untrained";  // "head.state": "untrained" | "trained"
  float temperature = 1.0f;         // "calibration.temperature": p = softmax(logits / T)
  // Tokenizer settings.
  bool lowercase = true;            // "tokenizer.lowercase"
  bool strip_accents = true;        // "tokenizer.strip_accents"
  int max_tokens = 256;             // "tokenizer.max_tokens": incl. [CLS] and [SEP]
  int tail_tokens = 64;             // "tokenizer.tail_tokens": kept from the end when cut
  std::string quantization = "none";  // "quant.scheme"

  int head_dim() const { return hidden / heads; }
};

// A dense fp32 tensor, row-major.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

struct Model {
  Config config;
  std::vector<std::string> vocab;               // token text by id (tensor "tokenizer.vocab")
  std::map<std::string, std::string> metadata;  // all metadata, provenance included
  std::map<std::string, Tensor> tensors;        // by name, see weight_names()

  const Tensor& at(const std::string& name) const;  // throws ModelError if absent
};

// Tensor names (Hugging Face BERT naming without the "bert." prefix):
//   embeddings.word_embeddings.weight          [vocab, hidden]
//   embeddings.position_embeddings.weight      [max_positions, hidden]
//   embeddings.token_type_embeddings.weight    [type_vocab, hidden]
//   embeddings.LayerNorm.{weight,bias}         [hidden]
//   encoder.layer.N.attention.self.{query,key,value}.weight [hidden, hidden] (out, in)
//   encoder.layer.N.attention.self.{query,key,value}.bias   [hidden]
//   encoder.layer.N.attention.output.dense.{weight,bias}    [hidden, hidden], [hidden]
//   encoder.layer.N.attention.output.LayerNorm.{weight,bias} [hidden]
//   encoder.layer.N.intermediate.dense.{weight,bias}        [intermediate, hidden], [intermediate]
//   encoder.layer.N.output.dense.{weight,bias}              [hidden, intermediate], [hidden]
//   encoder.layer.N.output.LayerNorm.{weight,bias}          [hidden]
//   classifier.{weight,bias}                   [num_labels, hidden], [num_labels]
// Weights are stored as PyTorch Linear stores them: [out_features, in_features].
std::string layer_tensor(int layer, const std::string& suffix);
// Every tensor name the config requires, with its expected shape.
std::vector<std::pair<std::string, std::vector<int64_t>>> weight_names(const Config& c);

// Reads a Spamformer model file (safetensors). Throws ModelError.
Model load_model(const std::string& path);
// Writes a Spamformer model file (fp32 tensors, or fp16 where `fp16` is set).
void save_model(const Model& m, const std::string& path, bool fp16 = false);

}  // namespace sf::model
