// model_file.cpp: the Spamformer model file (one safetensors file).
//
// What it does: maps a `Model` to and from safetensors. The config lives in
// the "__metadata__" object under the keys of kConfigFields (the only place
// that pairs metadata keys with Config fields), beside "format" =
// "spamformer-model", "format.version" = "1" and free-form "provenance.*"
// keys (provenance.data and provenance.metrics hold JSON text). The
// vocabulary is the U8 tensor "tokenizer.vocab" (tokens joined by '\n'); the
// weights are the tensors named by weight_names() in F32, F16, BF16 or F64.
// Promises: load_model returns a model that passed check_model (complete,
// exact shapes, finite fp32 values); save_model writes only a model that
// passes it, atomically.
// Failure: ModelError naming the file and the problem: a missing or
// unparsable metadata key, a missing/extra/misshapen/non-finite tensor, an
// unsupported format version. These are the file's or the operator's fault.
#include "model/model_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "model/model.h"
#include "model/safetensors.h"

namespace sf::model {

namespace {

constexpr const char* kFormatKey = "format";
constexpr const char* kFormatValue = "spamformer-model";
constexpr const char* kVersionKey = "format.version";
constexpr const char* kVersionValue = "1";
constexpr const char* kVocabTensor = "tokenizer.vocab";
// Provenance keys whose values must be JSON text when present.
constexpr const char* kJsonKeys[] = {"provenance.data", "provenance.metrics"};

using FieldPtr =
    std::variant<int Config::*, float Config::*, bool Config::*, std::string Config::*>;

struct ConfigField {
  const char* key;
  FieldPtr field;
};

// Every metadata key <-> Config field pairing, in one table. All are required.
const ConfigField kConfigFields[] = {
    {"arch.layers", &Config::layers},
    {"arch.hidden", &Config::hidden},
    {"arch.heads", &Config::heads},
    {"arch.intermediate", &Config::intermediate},
    {"arch.max_positions", &Config::max_positions},
    {"arch.vocab_size", &Config::vocab_size},
    {"arch.type_vocab_size", &Config::type_vocab_size},
    {"arch.layer_norm_eps", &Config::layer_norm_eps},
    {"arch.activation", &Config::activation},
    {"head.pooling", &Config::pooling},
    {"head.num_labels", &Config::num_labels},
    {"head.spam_label", &Config::spam_label},
    {"head.state", &Config::head_state},
    {"calibration.temperature", &Config::temperature},
    {"tokenizer.lowercase", &Config::lowercase},
    {"tokenizer.strip_accents", &Config::strip_accents},
    {"tokenizer.max_tokens", &Config::max_tokens},
    {"tokenizer.tail_tokens", &Config::tail_tokens},
    {"quant.scheme", &Config::quantization},
};

std::string format_value(const Config& c, const FieldPtr& f) {
  struct {
    const Config& c;
    std::string operator()(int Config::*p) const { return std::to_string(c.*p); }
    std::string operator()(float Config::*p) const {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, c.*p);  // shortest round-trip form
      return std::string(buf, r.ptr);
    }
    std::string operator()(bool Config::*p) const { return c.*p ? "true" : "false"; }
    std::string operator()(std::string Config::*p) const { return c.*p; }
  } visitor{c};
  return std::visit(visitor, f);
}

// Parses `text` into the field; returns an error description or "".
std::string parse_value(Config& c, const FieldPtr& f, const std::string& text) {
  struct {
    Config& c;
    const std::string& s;
    std::string operator()(int Config::*p) const {
      int v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        return "is not an integer";
      c.*p = v;
      return "";
    }
    std::string operator()(float Config::*p) const {
      float v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        return "is not a number";
      if (!std::isfinite(v)) return "is not finite";
      c.*p = v;
      return "";
    }
    std::string operator()(bool Config::*p) const {
      if (s != "true" && s != "false") return "is not \"true\" or \"false\"";
      c.*p = s == "true";
      return "";
    }
    std::string operator()(std::string Config::*p) const {
      c.*p = s;
      return "";
    }
  } visitor{c, text};
  return std::visit(visitor, f);
}

// Untrusted text, made printable and short for a message.
std::string printable(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    out += (ch >= 0x20 && ch < 0x7f) ? static_cast<char>(ch) : '?';
  }
  if (s.size() > 80) out += "...";
  return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void require(bool ok, const std::string& what) {
  if (!ok) throw ModelError(what);
}

void check_range(const char* key, int v, int lo, int hi) {
  require(v >= lo && v <= hi, std::string(key) + " = " + std::to_string(v) + " is outside [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace

const Tensor& Model::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw ModelError("model has no tensor '" + name + "'");
  return it->second;
}

std::string layer_tensor(int layer, const std::string& suffix) {
  return "encoder.layer." + std::to_string(layer) + "." + suffix;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> weight_names(const Config& c) {
  const int64_t h = c.hidden, in = c.intermediate;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}},
      {"embeddings.position_embeddings.weight", {c.max_positions, h}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}},
      {"embeddings.LayerNorm.weight", {h}},
      {"embeddings.LayerNorm.bias", {h}},
  };
  for (int l = 0; l < c.layers; ++l) {
    for (const char* qkv : {"query", "key", "value"}) {
      out.push_back({layer_tensor(l, std::string("attention.self.") + qkv + ".weight"), {h, h}});
      out.push_back({layer_tensor(l, std::string("attention.self.") + qkv + ".bias"), {h}});
    }
    out.push_back({layer_tensor(l, "attention.output.dense.weight"), {h, h}});
    out.push_back({layer_tensor(l, "attention.output.dense.bias"), {h}});
    out.push_back({layer_tensor(l, "attention.output.LayerNorm.weight"), {h}});
    out.push_back({layer_tensor(l, "attention.output.LayerNorm.bias"), {h}});
    out.push_back({layer_tensor(l, "intermediate.dense.weight"), {in, h}});
    out.push_back({layer_tensor(l, "intermediate.dense.bias"), {in}});
    out.push_back({layer_tensor(l, "output.dense.weight"), {h, in}});
    out.push_back({layer_tensor(l, "output.dense.bias"), {h}});
    out.push_back({layer_tensor(l, "output.LayerNorm.weight"), {h}});
    out.push_back({layer_tensor(l, "output.LayerNorm.bias"), {h}});
  }
  out.push_back({"classifier.weight", {c.num_labels, h}});
  out.push_back({"classifier.bias", {c.num_labels}});
  return out;
}

void check_config(const Config& c) {
  // Caps keep a hostile header from asking for absurd allocations before the
  // tensors are compared with it; real BERT-family models are far below them.
  check_range("arch.layers", c.layers, 1, 1024);
  check_range("arch.hidden", c.hidden, 1, 1 << 16);
  check_range("arch.heads", c.heads, 1, c.hidden);
  require(c.hidden % c.heads == 0,
          "arch.heads = " + std::to_string(c.heads) +
              " does not divide arch.hidden = " + std::to_string(c.hidden));
  check_range("arch.intermediate", c.intermediate, 1, 1 << 20);
  check_range("arch.max_positions", c.max_positions, 1, 1 << 20);
  check_range("arch.vocab_size", c.vocab_size, 1, 1 << 24);
  check_range("arch.type_vocab_size", c.type_vocab_size, 1, 1 << 10);
  require(std::isfinite(c.layer_norm_eps) && c.layer_norm_eps > 0 && c.layer_norm_eps < 1,
          "arch.layer_norm_eps = " + std::to_string(c.layer_norm_eps) + " is not in (0, 1)");
  require(c.activation == "gelu",
          "arch.activation '" + printable(c.activation) + "' is not supported (only \"gelu\")");
  require(c.pooling == "mean" || c.pooling == "cls",
          "head.pooling '" + printable(c.pooling) + "' is not \"mean\" or \"cls\"");
  check_range("head.num_labels", c.num_labels, 2, 1024);
  check_range("head.spam_label", c.spam_label, 0, c.num_labels - 1);
  require(c.head_state == "untrained" || c.head_state == "trained",
          "head.state '" + printable(c.head_state) + "' is not \"untrained\" or \"trained\"");
  require(std::isfinite(c.temperature) && c.temperature > 0,
          "calibration.temperature = " + std::to_string(c.temperature) + " is not positive");
  check_range("tokenizer.max_tokens", c.max_tokens, 3, c.max_positions);
  check_range("tokenizer.tail_tokens", c.tail_tokens, 0, c.max_tokens - 2);
  require(!c.quantization.empty(), "quant.scheme is empty");
}

void check_model(const Model& m) {
  const Config& c = m.config;
  check_config(c);
  require(static_cast<int64_t>(m.vocab.size()) == c.vocab_size,
          "vocabulary has " + std::to_string(m.vocab.size()) + " tokens but arch.vocab_size is " +
              std::to_string(c.vocab_size));
  for (size_t i = 0; i < m.vocab.size(); ++i) {
    require(!m.vocab[i].empty(), "vocabulary token " + std::to_string(i) + " is empty");
    require(m.vocab[i].find('\n') == std::string::npos,
            "vocabulary token " + std::to_string(i) + " contains a newline");
  }
  const auto names = weight_names(c);
  std::set<std::string> expected;
  for (const auto& [name, shape] : names) {
    expected.insert(name);
    auto it = m.tensors.find(name);
    require(it != m.tensors.end(), "missing tensor '" + name + "'");
    const Tensor& t = it->second;
    require(t.shape == shape, "tensor '" + name + "' has shape " + shape_text(t.shape) +
                                  ", the config implies " + shape_text(shape));
    require(static_cast<int64_t>(t.data.size()) == t.numel(),
            "tensor '" + name + "' holds " + std::to_string(t.data.size()) + " values for shape " +
                shape_text(t.shape));
    for (size_t i = 0; i < t.data.size(); ++i) {
      if (!std::isfinite(t.data[i])) {
        throw ModelError("tensor '" + name + "' element " + std::to_string(i) + " is " +
                         (std::isnan(t.data[i]) ? "NaN" : "infinite"));
      }
    }
  }
  for (const auto& [name, t] : m.tensors) {
    require(expected.count(name) != 0, "unexpected tensor '" + printable(name) +
                                           "' (not part of the architecture the config "
                                           "describes)");
  }
}

std::map<std::string, std::string> config_metadata(const Config& c) {
  std::map<std::string, std::string> out;
  for (const auto& f : kConfigFields) out[f.key] = format_value(c, f.field);
  return out;
}

Model load_model(const std::string& path) {
  const std::string where = path + ": ";
  try {
    st::File file(path);
    Model m;
    m.metadata = file.metadata();
    const auto& md = m.metadata;

    auto fmt = md.find(kFormatKey);
    require(fmt != md.end(), where +
                                 "not a Spamformer model file (metadata key \"format\" is "
                                 "missing; expected \"spamformer-model\")");
    require(fmt->second == kFormatValue, where +
                                             "not a Spamformer model file (metadata \"format\""
                                             " is '" +
                                             printable(fmt->second) +
                                             "', expected \"spamformer-model\")");
    auto ver = md.find(kVersionKey);
    require(ver != md.end(), where + "missing metadata key \"format.version\"");
    require(ver->second == kVersionValue, where + "unsupported format.version '" +
                                              printable(ver->second) + "' (this build reads " +
                                              kVersionValue + ")");
    for (const auto& f : kConfigFields) {
      auto it = md.find(f.key);
      require(it != md.end(), where + "missing metadata key \"" + f.key + "\"");
      std::string err = parse_value(m.config, f.field, it->second);
      require(err.empty(), where + "metadata key \"" + f.key + "\": value '" +
                               printable(it->second) + "' " + err);
    }
    for (const char* key : kJsonKeys) {
      auto it = md.find(key);
      require(it == md.end() || nlohmann::json::accept(it->second),
              where + "metadata key \"" + key + "\" is not valid JSON");
    }
    check_config(m.config);

    const st::TensorInfo* vocab = file.find(kVocabTensor);
    require(vocab != nullptr, where + "missing tensor \"tokenizer.vocab\" (the vocabulary)");
    require(vocab->dtype == st::DType::U8 && vocab->shape.size() == 1,
            where + "tensor \"tokenizer.vocab\" must be a 1-D U8 tensor");
    {
      std::string_view text(reinterpret_cast<const char*>(vocab->bytes.data()),
                            vocab->bytes.size());
      size_t start = 0;
      while (true) {
        size_t nl = text.find('\n', start);
        m.vocab.emplace_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
      }
    }

    // Check names, dtypes and shapes before converting anything.
    const auto names = weight_names(m.config);
    std::set<std::string, std::less<>> expected;
    for (const auto& [name, shape] : names) expected.insert(name);
    for (const auto& t : file.tensors()) {
      if (t.name == kVocabTensor) continue;
      require(expected.count(t.name) != 0,
              where + "unexpected tensor '" + printable(t.name) +
                  "' (not part of the architecture the metadata describes)");
      require(st::is_float_dtype(t.dtype), where + "tensor '" + t.name + "' has dtype " +
                                               std::string(st::dtype_name(t.dtype)) +
                                               "; weights must be F32, F16, BF16 or F64");
    }
    for (const auto& [name, shape] : names) {
      const st::TensorInfo* t = file.find(name);
      require(t != nullptr, where + "missing tensor '" + name + "'");
      require(t->shape == shape, where + "tensor '" + name + "' has shape " + shape_text(t->shape) +
                                     ", the metadata implies " + shape_text(shape));
    }
    for (const auto& t : file.tensors()) {
      if (t.name == kVocabTensor) continue;
      m.tensors.emplace(t.name, Tensor{t.shape, st::File::to_f32(t)});
    }
    try {
      check_model(m);
    } catch (const ModelError& e) {
      throw ModelError(where + e.what());
    }
    return m;
  } catch (const st::FormatError& e) {
    throw ModelError(e.what());
  } catch (const st::IoError& e) {
    throw ModelError(e.what());
  }
}

void save_model(const Model& m, const std::string& path, bool fp16) {
  const std::string where = path + ": cannot save: ";
  try {
    check_model(m);
  } catch (const ModelError& e) {
    throw ModelError(where + e.what());
  }
  st::Writer w;
  for (const auto& [k, v] : m.metadata) w.set_metadata(k, v);
  for (const auto& [k, v] : config_metadata(m.config)) w.set_metadata(k, v);
  w.set_metadata(kFormatKey, kFormatValue);
  w.set_metadata(kVersionKey, kVersionValue);

  std::string joined;
  for (size_t i = 0; i < m.vocab.size(); ++i) {
    if (i) joined += '\n';
    joined += m.vocab[i];
  }
  const int64_t vocab_bytes = static_cast<int64_t>(joined.size());
  try {
    w.add(kVocabTensor, st::DType::U8, {vocab_bytes},
          std::vector<uint8_t>(joined.begin(), joined.end()));
    for (const auto& [name, shape] : weight_names(m.config)) {
      w.add_f32(name, fp16 ? st::DType::F16 : st::DType::F32, shape, m.at(name).data);
    }
    w.write(path);
  } catch (const std::invalid_argument& e) {
    throw ModelError(where + e.what());
  } catch (const st::IoError& e) {
    throw ModelError(e.what());
  }
}

}  // namespace sf::model
