// Head files (model/head_file.h): a trained head is joined only to its own encoder,
// and joining it reproduces the original model's outputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "model/backend.h"
#include "model/cpu_backend.h"
#include "model/head_file.h"
#include "model/import_hf.h"
#include "model/model_file.h"
#include "tests/conformance.h"

using sf::model::apply_head;
using sf::model::Model;
using sf::model::ModelError;
using sf::model::save_head;
using sf::test::base_model_dir;
using sf::test::load_tiny_bert;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sf_head_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::vector<float> logits_of(const Model& m, const std::vector<int32_t>& ids) {
  sf::model::CpuEncoder enc(m);
  sf::model::Batch b;
  b.add(ids);
  std::vector<float> out(static_cast<size_t>(m.config.num_labels));
  enc.logits(b, out);
  return out;
}

// A head that differs from the fixture's: trained-looking weights and settings.
Model with_custom_head(Model m) {
  for (auto& v : m.tensors["classifier.weight"].data) v = v * -3.0f + 0.25f;
  m.tensors["classifier.bias"].data = {0.5f, -0.75f};
  m.config.temperature = 1.7f;
  m.config.head_state = "trained";
  m.config.pooling = "cls";
  m.config.tail_tokens = 5;
  m.metadata["provenance.command"] = "test";
  return m;
}

}  // namespace

TEST(HeadFile, RoundTripReproducesHeadAndSettings) {
  Model trained = with_custom_head(load_tiny_bert());
  std::string path = temp_path("a.safetensors");
  save_head(trained, path);

  Model fresh = load_tiny_bert();  // same encoder, original head
  fresh.config.head_state = "untrained";
  const std::vector<int32_t> ids = {2, 17, 33, 64, 3};
  ASSERT_NE(logits_of(fresh, ids), logits_of(trained, ids));
  apply_head(fresh, path);
  EXPECT_EQ(logits_of(fresh, ids), logits_of(trained, ids));
  EXPECT_EQ(fresh.config.head_state, "trained");
  EXPECT_FLOAT_EQ(fresh.config.temperature, 1.7f);
  EXPECT_EQ(fresh.config.pooling, "cls");
  EXPECT_EQ(fresh.config.tail_tokens, 5);
  EXPECT_EQ(fresh.metadata["provenance.command"], "test");
  std::filesystem::remove(path);
}

TEST(HeadFile, RefusesAnotherEncoder) {
  Model trained = with_custom_head(load_tiny_bert());
  std::string path = temp_path("b.safetensors");
  save_head(trained, path);
  Model other = load_tiny_bert();
  other.tensors["encoder.layer.0.output.dense.bias"].data[0] += 1e-3f;
  try {
    apply_head(other, path);
    FAIL() << "a head was joined to a different encoder";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("another encoder"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(HeadFile, FingerprintIgnoresTheHeadOnly) {
  Model a = load_tiny_bert();
  Model b = with_custom_head(a);
  EXPECT_EQ(sf::model::encoder_fingerprint(a), sf::model::encoder_fingerprint(b));
  b.tensors["embeddings.LayerNorm.bias"].data[3] = 0.125f;
  EXPECT_NE(sf::model::encoder_fingerprint(a), sf::model::encoder_fingerprint(b));
}

TEST(HeadFile, RefusesAModelFileAsHead) {
  Model m = load_tiny_bert();
  std::string path = temp_path("c.safetensors");
  sf::model::save_model(m, path);
  EXPECT_THROW(apply_head(m, path), ModelError);
  std::ofstream(path, std::ios::trunc) << "not a safetensors file";
  EXPECT_THROW(apply_head(m, path), ModelError);
  std::filesystem::remove(path);
}

TEST(HeadFile, ShippedHeadJoinsTheBaseModel) {
  std::string dir = base_model_dir();
  if (dir.empty()) GTEST_SKIP() << "all-MiniLM-L6-v2 not available (SPAMFORMER_BASE_MODEL_DIR)";
  Model m = sf::model::import_hf(dir, {});
  apply_head(m, std::string(SF_TEST_DATA) + "/../../models/minilm-l6-spam-head.safetensors");
  EXPECT_EQ(m.config.head_state, "trained");
  EXPECT_GT(m.config.temperature, 0.0f);
}
