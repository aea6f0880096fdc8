// head_file.cpp: see head_file.h.
#include "model/head_file.h"

#include <charconv>
#include <cstring>
#include <filesystem>

#include "model/safetensors.h"

namespace sf::model {
namespace {

constexpr const char* kFormat = "spamformer-head";
constexpr const char* kFingerprintKey = "head.encoder_fingerprint";

void fnv(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
}

std::string require(const st::File& f, const std::string& key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end())
    throw ModelError(f.name() + ": head file lacks metadata key '" + key + "'");
  return it->second;
}

template <typename T>
T parse_number(const st::File& f, const std::string& key) {
  std::string v = require(f, key);
  T out{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size())
    throw ModelError(f.name() + ": head metadata '" + key + "' is not a number: " + v);
  return out;
}

}  // namespace

std::string encoder_fingerprint(const Model& m) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& [name, t] : m.tensors) {  // std::map: sorted by name
    if (name.rfind("classifier.", 0) == 0) continue;
    fnv(h, name.data(), name.size());
    fnv(h, t.data.data(), t.data.size() * sizeof(float));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void save_head(const Model& m, const std::string& path) {
  const Config& c = m.config;
  st::Writer w;
  for (const auto& [k, v] : m.metadata)
    if (k.rfind("provenance.", 0) == 0) w.set_metadata(k, v);
  w.set_metadata("format", kFormat);
  w.set_metadata("format.version", "1");
  w.set_metadata(kFingerprintKey, encoder_fingerprint(m));
  w.set_metadata("arch.hidden", std::to_string(c.hidden));
  w.set_metadata("head.num_labels", std::to_string(c.num_labels));
  w.set_metadata("head.spam_label", std::to_string(c.spam_label));
  w.set_metadata("head.pooling", c.pooling);
  w.set_metadata("head.state", c.head_state);
  char t[32];
  std::snprintf(t, sizeof t, "%.9g", static_cast<double>(c.temperature));
  w.set_metadata("calibration.temperature", t);
  w.set_metadata("tokenizer.max_tokens", std::to_string(c.max_tokens));
  w.set_metadata("tokenizer.tail_tokens", std::to_string(c.tail_tokens));
  try {
    const Tensor& wt = m.at("classifier.weight");
    const Tensor& b = m.at("classifier.bias");
    w.add_f32("classifier.weight", st::DType::F32, wt.shape, wt.data);
    w.add_f32("classifier.bias", st::DType::F32, b.shape, b.data);
    w.write(path);
  } catch (const std::invalid_argument& e) {
    throw ModelError(path + ": cannot save head: " + e.what());
  } catch (const st::IoError& e) {
    throw ModelError(e.what());
  }
}

void apply_head(Model& m, const std::string& path) {
  try {
    st::File f(path);
    if (require(f, "format") != kFormat)
      throw ModelError(path + ": not a Spamformer head file (format is '" +
                       require(f, "format") + "')");
    if (require(f, "format.version") != "1")
      throw ModelError(path + ": unsupported head file version " + require(f, "format.version"));
    std::string want = require(f, kFingerprintKey), have = encoder_fingerprint(m);
    if (want != have)
      throw ModelError(path + ": this head was trained for another encoder (fingerprint " + want +
                       ", the imported encoder has " + have + ")");
    Config c = m.config;
    if (parse_number<int>(f, "arch.hidden") != c.hidden)
      throw ModelError(path + ": head is for hidden size " + require(f, "arch.hidden"));
    c.num_labels = parse_number<int>(f, "head.num_labels");
    c.spam_label = parse_number<int>(f, "head.spam_label");
    c.pooling = require(f, "head.pooling");
    c.head_state = require(f, "head.state");
    c.temperature = parse_number<float>(f, "calibration.temperature");
    c.max_tokens = parse_number<int>(f, "tokenizer.max_tokens");
    c.tail_tokens = parse_number<int>(f, "tokenizer.tail_tokens");
    if (c.num_labels < 2 || c.spam_label < 0 || c.spam_label >= c.num_labels ||
        !(c.temperature > 0) || (c.pooling != "mean" && c.pooling != "cls"))
      throw ModelError(path + ": head settings are inconsistent");
    Tensor w{{c.num_labels, c.hidden}, f.to_f32("classifier.weight")};
    Tensor b{{c.num_labels}, f.to_f32("classifier.bias")};
    const st::TensorInfo* wi = f.find("classifier.weight");
    const st::TensorInfo* bi = f.find("classifier.bias");
    if (wi->shape != w.shape || bi->shape != b.shape)
      throw ModelError(path + ": classifier tensors have the wrong shape");
    m.config = c;
    m.tensors["classifier.weight"] = std::move(w);
    m.tensors["classifier.bias"] = std::move(b);
    for (const auto& [k, v] : f.metadata())
      if (k.rfind("provenance.", 0) == 0) m.metadata[k] = v;
    m.metadata["provenance.head_file"] = std::filesystem::path(path).filename().string();
  } catch (const st::FormatError& e) {
    throw ModelError(e.what());
  } catch (const st::IoError& e) {
    throw ModelError(e.what());
  } catch (const std::invalid_argument& e) {
    throw ModelError(path + ": " + e.what());
  }
}

}  // namespace sf::model
