// test_backend_conformance.cpp: the CPU backend ("cpu-fp32") held to the CPU reference
// encoder through the shared harness (tests/conformance.h), on the tiny BERT fixture and,
// when it is available, the real all-MiniLM-L6-v2 (with a random head so the logits are
// not all zero). Other backends (CUDA) reuse the same harness in their own tests.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "model/backend.h"
#include "model/import_hf.h"
#include "tests/conformance.h"

namespace sf::model {
namespace {

// A random head, so the logits say something even for a checkpoint without one.
void randomise_head(Model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.5f);
  for (const char* name : {"classifier.weight", "classifier.bias"}) {
    for (float& v : m.tensors.at(name).data) v = n(rng);
  }
}

TEST(CpuBackendConformance, TinyBertOneThread) {
  const Model m = sf::test::load_tiny_bert();
  const auto seqs = sf::test::make_conformance_sequences(m, 64);
  ASSERT_EQ(seqs.size(), 64u);
  auto backend = make_cpu_backend(1);
  sf::test::expect_backend_matches_reference(*backend, m, seqs, 1e-5f, 1e-5f);
}

TEST(CpuBackendConformance, TinyBertClsPoolingTwoThreads) {
  Model m = sf::test::load_tiny_bert();
  m.config.pooling = "cls";
  const auto seqs = sf::test::make_conformance_sequences(m, 64, 0, 99);
  auto backend = make_cpu_backend(2);
  sf::test::expect_backend_matches_reference(*backend, m, seqs, 1e-5f, 1e-5f);
}

TEST(CpuBackendConformance, HarnessCatchesAWrongBackend) {
  // A backend that is off by a little in one pooled component must fail the harness.
  class Skewed : public Backend {
   public:
    Capabilities capabilities() const override { return {"skewed", "test", 0, 512, false}; }
    void load(const Model& m) override { inner_->load(m); }
    void encode(const Batch& b, std::span<float> out) override { inner_->encode(b, out); }
    void pooled(const Batch& b, std::span<float> out) override {
      inner_->pooled(b, out);
      if (b.size() > 0) out[3] += 1e-3f;
    }

   private:
    std::unique_ptr<Backend> inner_ = make_cpu_backend(1);
  };
  const Model m = sf::test::load_tiny_bert();
  const auto seqs = sf::test::make_conformance_sequences(m, 8);
  Skewed skewed;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    sf::test::expect_backend_matches_reference(skewed, m, seqs, 1e-5f, 1e-5f);
  }
  // One failure per batch size, each naming the skewed element; the logits conform.
  ASSERT_EQ(failures.size(), std::size(sf::test::kConformanceBatchSizes));
  for (int i = 0; i < failures.size(); ++i) {
    const std::string msg = failures.GetTestPartResult(i).message();
    EXPECT_NE(msg.find("pooled differs by 0.001"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sequence 0 (length 1), component 3"), std::string::npos) << msg;
  }
}

TEST(CpuBackendConformance, MiniLM) {
  const std::string dir = sf::test::base_model_dir();
  if (dir.empty()) {
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SPAMFORMER_BASE_MODEL_DIR to its Hugging "
                    "Face directory (or put it in ~/.cache/spamformer/all-MiniLM-L6-v2)";
  }
  Model m = import_hf(dir, ImportOptions{});
  randomise_head(m, 5);
  // 64 sequences up to 128 tokens keep this under a few seconds on two cores.
  const auto seqs = sf::test::make_conformance_sequences(m, 64, 128);
  auto backend = make_cpu_backend(1);
  sf::test::expect_backend_matches_reference(*backend, m, seqs, 1e-4f, 1e-4f);
}

}  // namespace
}  // namespace sf::model
