// test_model_file.cpp: the Spamformer model file (load_model/save_model) and the
// Hugging Face importer (import_hf). Small models and checkpoint directories
// are written by the tests themselves; the real all-MiniLM-L6-v2 is used when
// it has been fetched (scripts/fetch_base_model.sh), else that test skips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "model/import_hf.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/safetensors.h"

namespace fs = std::filesystem;
namespace st = sf::st;
using sf::model::Config;
using sf::model::Model;
using sf::model::ModelError;
using sf::model::Tensor;

namespace {

Config tiny_config() {
  Config c;
  c.layers = 2;
  c.hidden = 8;
  c.heads = 2;
  c.intermediate = 16;
  c.max_positions = 16;
  c.vocab_size = 10;
  c.type_vocab_size = 2;
  c.layer_norm_eps = 1e-7f;
  c.pooling = "cls";
  c.num_labels = 2;
  c.spam_label = 1;
  c.head_state = "trained";
  c.temperature = 1.7f;
  c.lowercase = false;
  c.strip_accents = false;
  c.max_tokens = 12;
  c.tail_tokens = 3;
  c.quantization = "none";
  return c;
}

std::vector<std::string> tiny_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "spam", "##s", "é", "!"};
}

// Deterministic, distinct values per tensor (no two tensors alike).
std::vector<float> pattern(size_t n, int salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = std::sin(0.37f * static_cast<float>(i) + 1.3f * static_cast<float>(salt)) * 0.5f;
  return v;
}

Model tiny_model() {
  Model m;
  m.config = tiny_config();
  m.vocab = tiny_vocab();
  int salt = 0;
  for (const auto& [name, shape] : sf::model::weight_names(m.config)) {
    Tensor t{shape, {}};
    t.data = pattern(static_cast<size_t>(t.numel()), ++salt);
    m.tensors[name] = std::move(t);
  }
  m.metadata["provenance.base_model"] = "tiny-test";
  m.metadata["provenance.metrics"] = "{\"auc\": 0.5}";
  return m;
}

struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() / ("sf_mf_" + std::to_string(::getpid()) + "_" +
                                        info->test_suite_name() + "_" + info->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// The ModelError message of `f()`, or "" when it does not throw.
std::string model_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_CONTAINS(text, needle) \
  EXPECT_NE(std::string(text).find(needle), std::string::npos) << "message: " << (text)

// Copies a safetensors file, letting `edit` change tensors and metadata.
struct Rewrite {
  std::map<std::string, std::string> metadata;
  struct T {
    st::DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::map<std::string, T> tensors;

  explicit Rewrite(const std::string& path) {
    st::File f(path);
    metadata = f.metadata();
    for (const auto& t : f.tensors()) {
      const auto* p = reinterpret_cast<const uint8_t*>(t.bytes.data());
      tensors[t.name] = T{t.dtype, t.shape, std::vector<uint8_t>(p, p + t.bytes.size())};
    }
  }
  void write(const std::string& path) const {
    st::Writer w;
    for (const auto& [k, v] : metadata) w.set_metadata(k, v);
    for (const auto& [name, t] : tensors) w.add(name, t.dtype, t.shape, t.bytes);
    w.write(path);
  }
};

void expect_same_model(const Model& a, const Model& b) {
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(sf::model::config_metadata(a.config), sf::model::config_metadata(b.config));
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const Tensor& u = b.at(name);
    EXPECT_EQ(t.shape, u.shape) << name;
    EXPECT_EQ(t.data, u.data) << name;
  }
}

// ---- names ----------------------------------------------------------------

TEST(ModelNames, WeightNamesCoverEmbeddingsLayersAndHead) {
  const Config c = tiny_config();
  const auto names = sf::model::weight_names(c);
  EXPECT_EQ(names.size(), 5u + 16u * 2u + 2u);
  EXPECT_EQ(sf::model::layer_tensor(3, "output.dense.bias"), "encoder.layer.3.output.dense.bias");
  std::map<std::string, std::vector<int64_t>> by_name(names.begin(), names.end());
  EXPECT_EQ(by_name.at("embeddings.word_embeddings.weight"), (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(by_name.at("encoder.layer.1.intermediate.dense.weight"), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(by_name.at("encoder.layer.1.output.dense.weight"), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(by_name.at("classifier.weight"), (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(by_name.count("encoder.layer.2.output.dense.bias"), 0u);
}

TEST(ModelNames, AtThrowsModelErrorForAbsentTensor) {
  Model m = tiny_model();
  EXPECT_EQ(m.at("classifier.bias").shape, (std::vector<int64_t>{2}));
  EXPECT_CONTAINS(model_error([&] { m.at("no.such.tensor"); }), "no.such.tensor");
}

// ---- save/load round trips --------------------------------------------------

TEST(ModelFile, RoundTripFp32IsExact) {
  TempDir dir;
  const Model m = tiny_model();
  sf::model::save_model(m, dir / "m.safetensors");
  const Model back = sf::model::load_model(dir / "m.safetensors");
  expect_same_model(m, back);
  EXPECT_EQ(back.config.temperature, 1.7f);
  EXPECT_EQ(back.config.layer_norm_eps, 1e-7f);
  EXPECT_EQ(back.config.pooling, "cls");
  EXPECT_FALSE(back.config.lowercase);
  EXPECT_EQ(back.metadata.at("provenance.base_model"), "tiny-test");
  EXPECT_EQ(back.metadata.at("format"), "spamformer-model");
  EXPECT_EQ(back.metadata.at("format.version"), "1");
  EXPECT_EQ(back.metadata.at("arch.hidden"), "8");
  st::File f(dir / "m.safetensors");
  EXPECT_EQ(f.find("encoder.layer.0.output.dense.weight")->dtype, st::DType::F32);
  EXPECT_EQ(f.find("tokenizer.vocab")->dtype, st::DType::U8);
}

TEST(ModelFile, RoundTripFp16StoresF16AndRoundsEachValueOnce) {
  TempDir dir;
  const Model m = tiny_model();
  sf::model::save_model(m, dir / "m16.safetensors", /*fp16=*/true);
  st::File f(dir / "m16.safetensors");
  EXPECT_EQ(f.find("embeddings.word_embeddings.weight")->dtype, st::DType::F16);
  const Model back = sf::model::load_model(dir / "m16.safetensors");
  EXPECT_EQ(back.vocab, m.vocab);
  for (const auto& [name, t] : m.tensors) {
    const Tensor& u = back.at(name);
    ASSERT_EQ(u.shape, t.shape);
    for (size_t i = 0; i < t.data.size(); ++i) {
      EXPECT_EQ(u.data[i], st::f16_to_f32(st::f32_to_f16(t.data[i]))) << name << "[" << i << "]";
      EXPECT_NEAR(u.data[i], t.data[i], 1e-3) << name;
    }
  }
  // Saving the fp16-loaded model again as fp16 changes nothing.
  sf::model::save_model(back, dir / "again.safetensors", true);
  expect_same_model(back, sf::model::load_model(dir / "again.safetensors"));
}

TEST(ModelFile, SaveFp16RefusesValuesThatOverflowHalf) {
  TempDir dir;
  Model m = tiny_model();
  m.tensors["encoder.layer.0.output.dense.bias"].data[2] = 1e6f;
  EXPECT_CONTAINS(model_error([&] { sf::model::save_model(m, dir / "x.safetensors", true); }),
                  "overflows F16");
  sf::model::save_model(m, dir / "x.safetensors", false);  // fine in fp32
}

TEST(ModelFile, SaveRefusesInconsistentModel) {
  TempDir dir;
  Model m = tiny_model();
  m.tensors.erase("encoder.layer.1.attention.self.key.bias");
  const std::string msg = model_error([&] { sf::model::save_model(m, dir / "x.safetensors"); });
  EXPECT_CONTAINS(msg, "cannot save");
  EXPECT_CONTAINS(msg, "missing tensor 'encoder.layer.1.attention.self.key.bias'");
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));

  Model v = tiny_model();
  v.vocab[3] = "a\nb";
  EXPECT_CONTAINS(model_error([&] { sf::model::save_model(v, dir / "x.safetensors"); }),
                  "contains a newline");
}

// ---- load refusals -----------------------------------------------------------

class ModelFileRefuses : public testing::Test {
 protected:
  void SetUp() override { sf::model::save_model(tiny_model(), good()); }
  std::string good() const { return dir / "good.safetensors"; }
  std::string bad() const { return dir / "bad.safetensors"; }
  // Load error after editing a copy of the good file.
  std::string load_error(const std::function<void(Rewrite&)>& edit) const {
    Rewrite r(good());
    edit(r);
    r.write(bad());
    return model_error([&] { sf::model::load_model(bad()); });
  }
  TempDir dir;
};

TEST_F(ModelFileRefuses, MissingFile) {
  const std::string msg = model_error([&] { sf::model::load_model(dir / "absent.safetensors"); });
  EXPECT_CONTAINS(msg, "absent.safetensors");
  EXPECT_CONTAINS(msg, "cannot open");
}

TEST_F(ModelFileRefuses, TruncatedFile) {
  fs::copy_file(good(), bad());
  fs::resize_file(bad(), fs::file_size(bad()) - 1);
  const std::string msg = model_error([&] { sf::model::load_model(bad()); });
  EXPECT_CONTAINS(msg, bad());
  EXPECT_CONTAINS(msg, "truncated");
}

TEST_F(ModelFileRefuses, MissingTensor) {
  const std::string msg =
      load_error([](Rewrite& r) { r.tensors.erase("encoder.layer.1.output.LayerNorm.weight"); });
  EXPECT_CONTAINS(msg, bad());
  EXPECT_CONTAINS(msg, "missing tensor 'encoder.layer.1.output.LayerNorm.weight'");
}

TEST_F(ModelFileRefuses, WrongShape) {
  const std::string msg = load_error([](Rewrite& r) {
    r.tensors["embeddings.word_embeddings.weight"].shape = {8, 10};
  });
  EXPECT_CONTAINS(msg, "tensor 'embeddings.word_embeddings.weight' has shape [8, 10]");
  EXPECT_CONTAINS(msg, "[10, 8]");
}

TEST_F(ModelFileRefuses, ExtraLayerBeyondConfig) {
  const std::string msg = load_error([](Rewrite& r) {
    r.tensors["encoder.layer.2.output.dense.bias"] = r.tensors["encoder.layer.1.output.dense.bias"];
  });
  EXPECT_CONTAINS(msg, "unexpected tensor 'encoder.layer.2.output.dense.bias'");
}

TEST_F(ModelFileRefuses, NonFloatWeight) {
  const std::string msg = load_error([](Rewrite& r) {
    auto& t = r.tensors["classifier.bias"];
    t.dtype = st::DType::I32;  // same byte size as 2 x F32
  });
  EXPECT_CONTAINS(msg, "tensor 'classifier.bias' has dtype I32");
}

TEST_F(ModelFileRefuses, MissingMetadataKey) {
  const std::string msg = load_error([](Rewrite& r) { r.metadata.erase("arch.heads"); });
  EXPECT_CONTAINS(msg, bad());
  EXPECT_CONTAINS(msg, "missing metadata key \"arch.heads\"");
}

TEST_F(ModelFileRefuses, EveryConfigKeyIsRequired) {
  for (const auto& [key, value] : sf::model::config_metadata(tiny_config())) {
    const std::string msg = load_error([&](Rewrite& r) { r.metadata.erase(key); });
    EXPECT_CONTAINS(msg, "missing metadata key \"" + key + "\"");
  }
}

TEST_F(ModelFileRefuses, UnparsableMetadataValues) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.hidden"] = "eight"; }),
                  "metadata key \"arch.hidden\": value 'eight' is not an integer");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.hidden"] = "8 "; }),
                  "is not an integer");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["calibration.temperature"] = "warm"; }),
                  "\"calibration.temperature\": value 'warm' is not a number");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["calibration.temperature"] = "inf"; }),
                  "is not finite");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["tokenizer.lowercase"] = "yes"; }),
                  "\"tokenizer.lowercase\": value 'yes' is not \"true\" or \"false\"");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["provenance.metrics"] = "{auc"; }),
                  "\"provenance.metrics\" is not valid JSON");
}

TEST_F(ModelFileRefuses, HeadsThatDoNotDivideHidden) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.heads"] = "3"; }),
                  "arch.heads = 3 does not divide arch.hidden = 8");
}

TEST_F(ModelFileRefuses, InsaneConfigValues) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.layers"] = "0"; }),
                  "arch.layers = 0 is outside");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.layers"] = "2000000000"; }),
                  "arch.layers = 2000000000 is outside");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["head.spam_label"] = "2"; }),
                  "head.spam_label = 2 is outside [0, 1]");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["tokenizer.max_tokens"] = "17"; }),
                  "tokenizer.max_tokens = 17 is outside [3, 16]");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["arch.activation"] = "relu"; }),
                  "arch.activation 'relu' is not supported");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["head.pooling"] = "max"; }),
                  "head.pooling 'max'");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["calibration.temperature"] = "-1"; }),
                  "calibration.temperature");
}

TEST_F(ModelFileRefuses, VocabSizeDifferentFromConfig) {
  const std::string msg = load_error([](Rewrite& r) {
    auto& b = r.tensors["tokenizer.vocab"].bytes;
    b.resize(b.size() - 2);  // drop the last token "\n!"
    r.tensors["tokenizer.vocab"].shape = {static_cast<int64_t>(b.size())};
  });
  EXPECT_CONTAINS(msg, "vocabulary has 9 tokens but arch.vocab_size is 10");
}

TEST_F(ModelFileRefuses, MissingVocabulary) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.tensors.erase("tokenizer.vocab"); }),
                  "missing tensor \"tokenizer.vocab\"");
}

TEST_F(ModelFileRefuses, NaNWeight) {
  const std::string msg = load_error([](Rewrite& r) {
    float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(r.tensors["encoder.layer.0.attention.self.value.weight"].bytes.data() + 4 * 5, &nan,
                4);
  });
  EXPECT_CONTAINS(msg, "tensor 'encoder.layer.0.attention.self.value.weight' element 5 is NaN");
}

TEST_F(ModelFileRefuses, InfiniteWeight) {
  const std::string msg = load_error([](Rewrite& r) {
    float inf = -std::numeric_limits<float>::infinity();
    std::memcpy(r.tensors["classifier.weight"].bytes.data(), &inf, 4);
  });
  EXPECT_CONTAINS(msg, "tensor 'classifier.weight' element 0 is infinite");
}

TEST_F(ModelFileRefuses, NotASpamformerFile) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata.erase("format"); }),
                  "not a Spamformer model file");
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["format"] = "pt"; }),
                  "not a Spamformer model file");
}

TEST_F(ModelFileRefuses, UnsupportedFormatVersion) {
  EXPECT_CONTAINS(load_error([](Rewrite& r) { r.metadata["format.version"] = "2"; }),
                  "unsupported format.version '2'");
}

TEST_F(ModelFileRefuses, RandomCorruptionIsRefusedCleanly) {
  // Flip bytes all over a valid file (header and weights): load_model either
  // succeeds with a checked model or throws ModelError; nothing else escapes.
  std::vector<char> good_bytes(fs::file_size(good()));
  std::ifstream(good(), std::ios::binary).read(good_bytes.data(), good_bytes.size());
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int refused = 0, loaded = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<char> b = good_bytes;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int i = 0; i < flips; ++i) {
      // Half of the flips hit the header, where they matter most.
      const size_t header_end = 8 + static_cast<size_t>(next() % 2 ? 2000 : b.size() - 8);
      const size_t pos = next() % std::min(b.size(), header_end);
      b[pos] = static_cast<char>(b[pos] ^ (1 << (next() % 8)));
    }
    std::ofstream(bad(), std::ios::binary | std::ios::trunc).write(b.data(), b.size());
    try {
      Model m = sf::model::load_model(bad());
      sf::model::check_model(m);
      ++loaded;
    } catch (const ModelError&) {
      ++refused;
    }
  }
  EXPECT_EQ(refused + loaded, 300);
  EXPECT_GT(refused, 0);
}

TEST_F(ModelFileRefuses, ValidCopyLoads) {
  // The Rewrite helper itself produces loadable files: the refusals above are
  // caused by their edits alone.
  EXPECT_EQ(load_error([](Rewrite&) {}), "");
}

// ---- import_hf ----------------------------------------------------------------

struct HfOptions {
  bool prefix = true;
  bool classifier = false;
  int classifier_labels = 2;
  bool tokenizer_config = true;
  std::string hidden_act = "gelu";
  bool extra_layer = false;
  std::string name_or_path = "test-org/tiny-bert";
  nlohmann::json id2label = nullptr;
};

// Writes a tiny BERT checkpoint directory; returns the tensors it stored, by
// canonical name (no prefix).
std::map<std::string, std::vector<float>> write_hf_dir(const fs::path& dir, const HfOptions& o) {
  fs::create_directories(dir);
  Config c = tiny_config();
  c.max_positions = 512;  // room for the default max_tokens (256)
  nlohmann::json cfg = {{"model_type", "bert"},
                        {"hidden_size", c.hidden},
                        {"num_hidden_layers", c.layers},
                        {"num_attention_heads", c.heads},
                        {"intermediate_size", c.intermediate},
                        {"max_position_embeddings", c.max_positions},
                        {"vocab_size", c.vocab_size},
                        {"type_vocab_size", c.type_vocab_size},
                        {"layer_norm_eps", 1e-12},
                        {"hidden_act", o.hidden_act},
                        {"position_embedding_type", "absolute"},
                        {"_name_or_path", o.name_or_path}};
  if (!o.id2label.is_null()) cfg["id2label"] = o.id2label;
  std::ofstream(dir / "config.json") << cfg.dump(2);
  {
    std::ofstream v(dir / "vocab.txt");
    for (const auto& t : tiny_vocab()) v << t << "\n";
  }
  if (o.tokenizer_config) {
    std::ofstream(dir / "tokenizer_config.json")
        << R"({"do_lower_case": true, "strip_accents": null, "model_max_length": 512})";
  }
  std::map<std::string, std::vector<float>> stored;
  st::Writer w;
  const std::string pre = o.prefix ? "bert." : "";
  int salt = 100;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool prefixed,
                 st::DType dtype = st::DType::F32) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    auto v = pattern(static_cast<size_t>(n), ++salt);
    w.add_f32((prefixed ? pre : "") + name, dtype, shape, v);
    if (dtype == st::DType::BF16)
      for (auto& x : v) x = st::bf16_to_f32(st::f32_to_bf16(x));
    stored[name] = v;
  };
  for (const auto& [name, shape] : sf::model::weight_names(c)) {
    if (name.rfind("classifier.", 0) == 0) continue;
    // One tensor in BF16 to check conversion on import.
    add(name, shape, true, name == "embeddings.LayerNorm.bias" ? st::DType::BF16 : st::DType::F32);
  }
  add("pooler.dense.weight", {c.hidden, c.hidden}, true);
  add("pooler.dense.bias", {c.hidden}, true);
  w.add(pre + "embeddings.position_ids", st::DType::I64, {1, c.max_positions},
        std::vector<uint8_t>(static_cast<size_t>(8 * c.max_positions), 0));
  if (o.classifier) {
    add("classifier.weight", {o.classifier_labels, c.hidden}, false);
    add("classifier.bias", {o.classifier_labels}, false);
  }
  if (o.extra_layer) add(sf::model::layer_tensor(2, "output.dense.bias"), {c.hidden}, true);
  w.set_metadata("format", "pt");
  w.write((dir / "model.safetensors").string());
  return stored;
}

void expect_imported_weights(const Model& m, const std::map<std::string, std::vector<float>>& s) {
  for (const auto& [name, shape] : sf::model::weight_names(m.config)) {
    if (name.rfind("classifier.", 0) == 0) continue;
    EXPECT_EQ(m.at(name).data, s.at(name)) << name;
    EXPECT_EQ(m.at(name).shape, shape) << name;
  }
}

TEST(ImportHf, WithBertPrefixAndNoClassifierGivesZeroUntrainedHead) {
  TempDir dir;
  const auto stored = write_hf_dir(dir.path / "ckpt", {});
  sf::model::ImportReport rep;
  const Model m = sf::model::import_hf(dir / "ckpt", {}, &rep);
  const Config& c = m.config;
  EXPECT_EQ(c.layers, 2);
  EXPECT_EQ(c.hidden, 8);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.intermediate, 16);
  EXPECT_EQ(c.max_positions, 512);
  EXPECT_EQ(c.vocab_size, 10);
  EXPECT_EQ(c.layer_norm_eps, 1e-12f);
  EXPECT_TRUE(c.lowercase);
  EXPECT_TRUE(c.strip_accents);  // null follows lowercase
  EXPECT_EQ(c.head_state, "untrained");
  EXPECT_EQ(c.pooling, "mean");
  EXPECT_EQ(m.vocab, tiny_vocab());
  expect_imported_weights(m, stored);
  for (float v : m.at("classifier.weight").data) EXPECT_EQ(v, 0.0f);
  for (float v : m.at("classifier.bias").data) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(rep.head_source, "zero");
  std::set<std::string> ignored(rep.ignored_tensors.begin(), rep.ignored_tensors.end());
  EXPECT_EQ(ignored, (std::set<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                            "bert.embeddings.position_ids"}));
  EXPECT_EQ(m.metadata.at("provenance.base_model"), "test-org/tiny-bert");
  EXPECT_CONTAINS(m.metadata.at("provenance.command"), "import_hf");
  EXPECT_CONTAINS(m.metadata.at("provenance.command"), "ckpt");
}

TEST(ImportHf, WithoutPrefixAndWithClassifierGivesTrainedHead) {
  TempDir dir;
  HfOptions o;
  o.prefix = false;
  o.classifier = true;
  o.tokenizer_config = false;
  const auto stored = write_hf_dir(dir.path / "ckpt", o);
  sf::model::ImportReport rep;
  const Model m = sf::model::import_hf(dir / "ckpt", {}, &rep);
  expect_imported_weights(m, stored);
  EXPECT_EQ(m.config.head_state, "trained");
  EXPECT_EQ(rep.head_source, "checkpoint");
  EXPECT_EQ(m.at("classifier.weight").data, stored.at("classifier.weight"));
  EXPECT_EQ(m.at("classifier.bias").data, stored.at("classifier.bias"));
  EXPECT_EQ(
      std::count(rep.ignored_tensors.begin(), rep.ignored_tensors.end(), "pooler.dense.weight"), 1);
}

TEST(ImportHf, SpamLabelComesFromId2LabelOfATrainedHead) {
  TempDir dir;
  HfOptions o;
  o.classifier = true;
  o.id2label = {{"0", "SPAM"}, {"1", "ham"}};
  write_hf_dir(dir.path / "ckpt", o);
  EXPECT_EQ(sf::model::import_hf(dir / "ckpt").config.spam_label, 0);
  o.classifier = false;  // a fresh head keeps the project's convention (1 = spam)
  write_hf_dir(dir.path / "fresh", o);
  EXPECT_EQ(sf::model::import_hf(dir / "fresh").config.spam_label, 1);
}

TEST(ImportHf, DirectoryNameThatIsNotUtf8StillSaves) {
  TempDir dir;
  HfOptions o;
  o.name_or_path = "";
  write_hf_dir(dir.path / "ckpt-\xff", o);
  const Model m = sf::model::import_hf(dir / "ckpt-\xff");
  EXPECT_EQ(m.metadata.at("provenance.base_model"), "ckpt-\xef\xbf\xbd");  // U+FFFD
  sf::model::save_model(m, dir / "m.safetensors");
  EXPECT_EQ(sf::model::load_model(dir / "m.safetensors").metadata.at("provenance.base_model"),
            "ckpt-\xef\xbf\xbd");
}

TEST(ImportHf, ClassifierWithOtherLabelCountIsNotUsed) {
  TempDir dir;
  HfOptions o;
  o.classifier = true;
  o.classifier_labels = 3;
  write_hf_dir(dir.path / "ckpt", o);
  sf::model::ImportReport rep;
  const Model m = sf::model::import_hf(dir / "ckpt", {}, &rep);
  EXPECT_EQ(m.config.head_state, "untrained");
  EXPECT_EQ(m.at("classifier.weight").shape, (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(std::count(rep.ignored_tensors.begin(), rep.ignored_tensors.end(), "classifier.weight"),
            1);
}

TEST(ImportHf, NormalHeadInitIsSeededAndSmall) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  sf::model::ImportOptions o;
  o.head_init = "normal";
  o.head_seed = 7;
  const Model a = sf::model::import_hf(dir / "ckpt", o);
  const Model b = sf::model::import_hf(dir / "ckpt", o);
  o.head_seed = 8;
  const Model c = sf::model::import_hf(dir / "ckpt", o);
  EXPECT_EQ(a.at("classifier.weight").data, b.at("classifier.weight").data);
  EXPECT_NE(a.at("classifier.weight").data, c.at("classifier.weight").data);
  for (float v : a.at("classifier.weight").data) EXPECT_LT(std::fabs(v), 0.2f);
  EXPECT_EQ(a.config.head_state, "untrained");
}

TEST(ImportHf, OptionsReachTheConfig) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  sf::model::ImportOptions o;
  o.max_tokens = 10;
  o.tail_tokens = 2;
  o.pooling = "cls";
  o.num_labels = 3;
  const Model m = sf::model::import_hf(dir / "ckpt", o);
  EXPECT_EQ(m.config.max_tokens, 10);
  EXPECT_EQ(m.config.tail_tokens, 2);
  EXPECT_EQ(m.config.pooling, "cls");
  EXPECT_EQ(m.at("classifier.bias").shape, (std::vector<int64_t>{3}));
  o.max_tokens = 513;  // more than max_position_embeddings
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt", o); }),
                  "tokenizer.max_tokens = 513 is outside [3, 512]");
  o.max_tokens = 10;
  o.head_init = "xavier";
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt", o); }), "head_init");
}

TEST(ImportHf, BaseModelFallsBackToDirectoryName) {
  TempDir dir;
  HfOptions o;
  o.name_or_path = "";
  write_hf_dir(dir.path / "my-bert", o);
  const Model m = sf::model::import_hf(dir / "my-bert/");
  EXPECT_EQ(m.metadata.at("provenance.base_model"), "my-bert");
}

TEST(ImportHf, ImportSaveLoadIsExact) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  const Model m = sf::model::import_hf(dir / "ckpt");
  sf::model::save_model(m, dir / "m.safetensors");
  const Model back = sf::model::load_model(dir / "m.safetensors");
  expect_same_model(m, back);
  EXPECT_EQ(back.metadata.at("provenance.base_model"), "test-org/tiny-bert");
  EXPECT_EQ(back.metadata.at("head.state"), "untrained");
}

TEST(ImportHf, RefusesNonGeluActivation) {
  TempDir dir;
  HfOptions o;
  o.hidden_act = "gelu_new";
  write_hf_dir(dir.path / "ckpt", o);
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "hidden_act \"gelu_new\" is not supported");
}

TEST(ImportHf, RefusesPytorchBinWithConversionAdvice) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  fs::rename(dir.path / "ckpt/model.safetensors", dir.path / "ckpt/pytorch_model.bin");
  const std::string msg = model_error([&] { sf::model::import_hf(dir / "ckpt"); });
  EXPECT_CONTAINS(msg, "pytorch_model.bin");
  EXPECT_CONTAINS(msg, "Convert it to model.safetensors");
}

TEST(ImportHf, RefusesMissingFiles) {
  TempDir dir;
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "nothing"); }), "not a directory");
  write_hf_dir(dir.path / "ckpt", {});
  fs::remove(dir.path / "ckpt/vocab.txt");
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }), "vocab.txt: missing");
  fs::remove(dir.path / "ckpt/config.json");
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }), "config.json: missing");
}

TEST(ImportHf, RefusesVocabCountMismatch) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  std::ofstream(dir.path / "ckpt/vocab.txt", std::ios::app) << "extra\n";
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "11 tokens, but config.json says vocab_size 10");
}

TEST(ImportHf, RefusesBadConfigJson) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  std::ofstream(dir.path / "ckpt/config.json")
      << R"({"model_type": "bert", "hidden_act": "gelu", "hidden_size": "384"})";
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "\"hidden_size\" is not an integer");
  std::ofstream(dir.path / "ckpt/config.json") << R"({"model_type": "roberta"})";
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "model_type \"roberta\" is not supported");
  std::ofstream(dir.path / "ckpt/config.json") << "{not json";
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }), "not valid JSON");
}

TEST(ImportHf, RefusesLayersBeyondConfig) {
  TempDir dir;
  HfOptions o;
  o.extra_layer = true;
  write_hf_dir(dir.path / "ckpt", o);
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "'bert.encoder.layer.2.output.dense.bias' is not part of the architecture");
}

TEST(ImportHf, RefusesMissingAndMisshapenTensors) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  const std::string path = dir / "ckpt/model.safetensors";
  {
    Rewrite r(path);
    r.tensors.erase("bert.encoder.layer.0.attention.self.query.weight");
    r.write(path);
  }
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "missing tensor 'encoder.layer.0.attention.self.query.weight'");
  write_hf_dir(dir.path / "ckpt", {});
  {
    Rewrite r(path);
    r.tensors["bert.encoder.layer.1.intermediate.dense.weight"].shape = {8, 16};
    r.write(path);
  }
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "has shape [8, 16], config.json implies [16, 8]");
}

TEST(ImportHf, RefusesNaNInCheckpoint) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  const std::string path = dir / "ckpt/model.safetensors";
  {
    Rewrite r(path);
    float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(r.tensors["bert.embeddings.position_embeddings.weight"].bytes.data(), &nan, 4);
    r.write(path);
  }
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "'embeddings.position_embeddings.weight' element 0 is NaN");
}

TEST(ImportHf, RefusesTensorPresentWithAndWithoutPrefix) {
  TempDir dir;
  write_hf_dir(dir.path / "ckpt", {});
  const std::string path = dir / "ckpt/model.safetensors";
  {
    Rewrite r(path);
    r.tensors["embeddings.LayerNorm.weight"] = r.tensors["bert.embeddings.LayerNorm.weight"];
    r.write(path);
  }
  EXPECT_CONTAINS(model_error([&] { sf::model::import_hf(dir / "ckpt"); }),
                  "both with and without the \"bert.\" prefix");
}

// ---- the real base model --------------------------------------------------------

std::string base_model_dir() {
  if (const char* d = std::getenv("SPAMFORMER_BASE_MODEL_DIR"); d != nullptr && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/spamformer/all-MiniLM-L6-v2";
}

TEST(ImportHfReal, AllMiniLmL6V2ImportsAndRoundTrips) {
  const std::string src = base_model_dir();
  if (!fs::exists(fs::path(src) / "config.json")) {
    GTEST_SKIP() << "base model not found at " << src
                 << " (run scripts/fetch_base_model.sh or set SPAMFORMER_BASE_MODEL_DIR)";
  }
  sf::model::ImportReport rep;
  const Model m = sf::model::import_hf(src, {}, &rep);
  const Config& c = m.config;
  EXPECT_EQ(c.layers, 6);
  EXPECT_EQ(c.hidden, 384);
  EXPECT_EQ(c.heads, 12);
  EXPECT_EQ(c.intermediate, 1536);
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.max_positions, 512);
  EXPECT_TRUE(c.lowercase);
  EXPECT_EQ(c.head_state, "untrained");
  ASSERT_EQ(m.vocab.size(), 30522u);
  EXPECT_EQ(m.vocab[0], "[PAD]");
  EXPECT_EQ(m.vocab[100], "[UNK]");
  EXPECT_EQ(m.vocab[101], "[CLS]");
  EXPECT_EQ(m.vocab[102], "[SEP]");
  EXPECT_EQ(
      std::count(rep.ignored_tensors.begin(), rep.ignored_tensors.end(), "pooler.dense.weight"), 1);

  // The imported tensors are the checkpoint's, bit for bit.
  st::File ckpt((fs::path(src) / "model.safetensors").string());
  const char* names[] = {"embeddings.word_embeddings.weight",
                         "encoder.layer.0.attention.self.query.weight",
                         "encoder.layer.5.output.LayerNorm.bias"};
  for (const char* name : names) {
    const st::TensorInfo* t = ckpt.find(name);
    if (t == nullptr) t = ckpt.find(std::string("bert.") + name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(m.at(name).data, st::File::to_f32(*t)) << name;
  }

  TempDir dir;
  sf::model::save_model(m, dir / "minilm.safetensors");
  const Model back = sf::model::load_model(dir / "minilm.safetensors");
  for (const char* name : names) EXPECT_EQ(back.at(name).data, m.at(name).data) << name;
  EXPECT_EQ(back.vocab, m.vocab);
  EXPECT_EQ(back.metadata.at("provenance.base_model"), "nreimers/MiniLM-L6-H384-uncased");
}

}  // namespace
