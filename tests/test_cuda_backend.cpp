// test_cuda_backend.cpp: the CUDA backend ("cuda-fp32") held to the fp32 CPU reference.
//
// Through the shared conformance harness (tests/conformance.h: batches of 1, 7 and 64):
// the tiny BERT fixture (head dim 8), random models with head dims 16, 20 (zero-padded
// to 32) and 64, [CLS] pooling, a random MiniLM-shaped model (6 layers, hidden 384, 12
// heads, 1536; lengths 128 to 512) and, where it is on disk, the real all-MiniLM-L6-v2.
// Directly against CpuEncoder: every attention width in one batch whose lengths straddle
// the tile boundaries. Besides: repeated calls are bitwise reproducible (a race would
// show), buffers grown for a large batch still serve small ones, bad input is refused with
// BackendError and leaves the backend usable, unsupported models are refused.
// Without a GPU (CI) every GPU test is SKIPPED, never passed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda_backend.h"
#include "kernels/random_model.h"
#include "model/backend.h"
#include "model/cpu_backend.h"
#include "model/import_hf.h"
#include "tests/conformance.h"

namespace sf::cuda {
namespace {

using sf::model::Backend;
using sf::model::BackendError;
using sf::model::Batch;
using sf::model::Config;
using sf::model::Model;
using sf::model::ModelError;

class CudaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA GPU";
  }
};

// A small random encoder with the given attention shape.
Model small_model(int hidden, int heads, const std::string& pooling, uint64_t seed) {
  Config c;
  c.layers = 2;
  c.hidden = hidden;
  c.heads = heads;
  c.intermediate = 2 * hidden + 4;
  c.max_positions = 200;
  c.vocab_size = 300;
  c.layer_norm_eps = 1e-5f;
  c.pooling = pooling;
  c.num_labels = 3;
  c.max_tokens = 200;
  return random_model(c, seed);
}

// `count` sequences of random ids with lengths uniform in [lo, hi]; both ends included.
std::vector<std::vector<int32_t>> sequences(int count, int lo, int hi, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(lo, hi);
  std::uniform_int_distribution<int32_t> id(0, vocab - 1);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const int n = i == 0 ? lo : i == 1 ? hi : len(rng);
    for (int k = 0; k < n; ++k) out[static_cast<size_t>(i)].push_back(id(rng));
  }
  return out;
}

Batch make_batch(const std::vector<std::vector<int32_t>>& seqs) {
  Batch b;
  for (const auto& s : seqs) b.add(s);
  return b;
}

TEST_F(CudaBackendTest, ReportsNameAndDevice) {
  auto b = make_cuda_backend(0);
  const auto caps = b->capabilities();
  EXPECT_EQ(caps.name, "cuda-fp32");
  EXPECT_FALSE(caps.device.empty());
  EXPECT_FALSE(caps.int8);
  std::printf("[cuda] device 0: %s (%d visible)\n", caps.device.c_str(), device_count());
}

TEST_F(CudaBackendTest, NoSuchDeviceThrows) {
  EXPECT_THROW(make_cuda_backend(device_count()), BackendError);
  EXPECT_THROW(make_cuda_backend(-1), BackendError);
}

TEST_F(CudaBackendTest, TinyBertMatchesReference) {
  const Model m = sf::test::load_tiny_bert();
  const auto seqs = sf::test::make_conformance_sequences(m, 64);
  auto b = make_cuda_backend(0);
  sf::test::expect_backend_matches_reference(*b, m, seqs, 1e-4f, 1e-4f);
}

TEST_F(CudaBackendTest, TinyBertClsPoolingMatchesReference) {
  Model m = sf::test::load_tiny_bert();
  m.config.pooling = "cls";
  const auto seqs = sf::test::make_conformance_sequences(m, 64, 0, 99);
  auto b = make_cuda_backend(0);
  sf::test::expect_backend_matches_reference(*b, m, seqs, 1e-4f, 1e-4f);
}

// Head dims 16 (exact width), 20 (padded to 32) and 64 (the widest), sequences up to
// 200 tokens: several key tiles and query tiles, with partial last tiles.
TEST_F(CudaBackendTest, AttentionWidthsMatchReference) {
  struct Shape {
    int hidden, heads;
    const char* pooling;
  };
  for (const Shape& s : {Shape{48, 3, "mean"}, Shape{60, 3, "cls"}, Shape{128, 2, "mean"}}) {
    SCOPED_TRACE("hidden " + std::to_string(s.hidden) + ", heads " + std::to_string(s.heads));
    const Model m = small_model(s.hidden, s.heads, s.pooling, 7 + s.hidden);
    const auto seqs = sequences(40, 1, 200, m.config.vocab_size, 11 + s.hidden);
    auto b = make_cuda_backend(0);
    sf::test::expect_backend_matches_reference(*b, m, seqs, 1e-4f, 1e-4f);
  }
}

// Every compiled attention width (head dims 8, 16, 20 -> 32, 32, 64) in one batch whose
// lengths straddle the key tile (32 or 64) and query tile (64) boundaries. One call each:
// small enough for compute-sanitizer racecheck (scripts/gpu_check.sh).
TEST_F(CudaBackendTest, EveryAttentionWidthInOneBatch) {
  struct Shape {
    int hidden, heads;
  };
  const std::vector<int> lengths = {1, 2, 31, 32, 33, 63, 64, 65, 127, 129, 200};
  for (const Shape& s : {Shape{32, 4}, Shape{48, 3}, Shape{60, 3}, Shape{64, 2}, Shape{128, 2}}) {
    SCOPED_TRACE("hidden " + std::to_string(s.hidden) + ", heads " + std::to_string(s.heads));
    const Model m = small_model(s.hidden, s.heads, "mean", 100 + s.hidden);
    std::mt19937 rng(static_cast<uint32_t>(s.hidden));
    std::uniform_int_distribution<int32_t> id(0, m.config.vocab_size - 1);
    Batch batch;
    for (int len : lengths) {
      std::vector<int32_t> ids(static_cast<size_t>(len));
      for (auto& v : ids) v = id(rng);
      batch.add(ids);
    }
    const size_t n = batch.size(), h = static_cast<size_t>(m.config.hidden);
    const size_t nl = static_cast<size_t>(m.config.num_labels);
    std::vector<float> ref_pooled(n * h), ref_logits(n * nl);
    const sf::model::CpuEncoder ref(m);
    ref.pooled(batch, ref_pooled);
    ref.logits(batch, ref_logits);
    auto b = make_cuda_backend(0);
    b->load(m);
    std::vector<float> pooled(n * h, std::nanf("")), logits(n * nl, std::nanf(""));
    b->pooled(batch, pooled);
    b->encode(batch, logits);
    const auto wp = sf::test::max_abs_diff(pooled.data(), ref_pooled.data(), n * h);
    const auto wl = sf::test::max_abs_diff(logits.data(), ref_logits.data(), n * nl);
    EXPECT_LE(wp.diff, 1e-4f) << "pooled, sequence of length " << lengths[wp.index / h];
    EXPECT_LE(wl.diff, 1e-4f) << "logits, sequence of length " << lengths[wl.index / nl];
  }
}

// The real shapes: head dim 32, lengths 128 to 512, batches of 1, 7 and 64.
TEST_F(CudaBackendTest, RandomMiniLmShapeMatchesReference) {
  const Model m = random_model(Config{}, 2024);
  ASSERT_EQ(m.config.hidden / m.config.heads, 32);
  const auto seqs = sequences(64, 128, 512, m.config.vocab_size, 31);
  auto b = make_cuda_backend(0);
  sf::test::expect_backend_matches_reference(*b, m, seqs, 1e-4f, 1e-4f);
}

TEST_F(CudaBackendTest, RealMiniLmMatchesReference) {
  const std::string dir = sf::test::base_model_dir();
  if (dir.empty()) {
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SPAMFORMER_BASE_MODEL_DIR to its Hugging "
                    "Face directory (or put it in ~/.cache/spamformer/all-MiniLM-L6-v2)";
  }
  Model m = sf::model::import_hf(dir, sf::model::ImportOptions{});
  std::mt19937 rng(5);  // a random head, so the logits are not all zero
  std::normal_distribution<float> n(0.0f, 0.5f);
  for (const char* name : {"classifier.weight", "classifier.bias"}) {
    for (float& v : m.tensors.at(name).data) v = n(rng);
  }
  for (int max_len : {256, 512}) {
    SCOPED_TRACE("lengths up to " + std::to_string(max_len));
    const auto seqs = sf::test::make_conformance_sequences(m, 64, max_len, 77 + max_len);
    auto b = make_cuda_backend(0);
    sf::test::expect_backend_matches_reference(*b, m, seqs, 1e-4f, 1e-4f);
  }
}

// Same input, same bits: no atomics or races, and reused buffers carry nothing over.
// Between the repeats a larger batch grows the buffers and a smaller one runs in them.
TEST_F(CudaBackendTest, RepeatedCallsAreBitwiseIdentical) {
  const Model m = small_model(64, 2, "mean", 3);
  auto b = make_cuda_backend(0);
  b->load(m);
  const Batch small = make_batch(sequences(5, 1, 150, m.config.vocab_size, 1));
  const Batch large = make_batch(sequences(100, 100, 200, m.config.vocab_size, 2));
  const size_t nl = static_cast<size_t>(m.config.num_labels);
  const size_t h = static_cast<size_t>(m.config.hidden);
  std::vector<float> first(small.size() * nl), again(small.size() * nl);
  std::vector<float> pooled1(small.size() * h), pooled2(small.size() * h);
  b->encode(small, first);
  b->pooled(small, pooled1);
  std::vector<float> big(large.size() * nl);
  b->encode(large, big);
  for (int rep = 0; rep < 3; ++rep) {
    std::fill(again.begin(), again.end(), std::nanf(""));
    std::fill(pooled2.begin(), pooled2.end(), std::nanf(""));
    b->encode(small, again);
    b->pooled(small, pooled2);
    EXPECT_EQ(first, again) << "repeat " << rep;
    EXPECT_EQ(pooled1, pooled2) << "repeat " << rep;
  }
  for (float v : big) ASSERT_TRUE(std::isfinite(v));
}

TEST_F(CudaBackendTest, EmptyBatchIsANoOp) {
  const Model m = sf::test::load_tiny_bert();
  auto b = make_cuda_backend(0);
  b->load(m);
  Batch empty;
  std::vector<float> none;
  EXPECT_NO_THROW(b->encode(empty, none));
  EXPECT_NO_THROW(b->pooled(empty, none));
}

TEST_F(CudaBackendTest, RefusesBadInputAndStaysUsable) {
  const Model m = sf::test::load_tiny_bert();
  auto b = make_cuda_backend(0);
  std::vector<float> two(2);
  Batch ok;
  ok.add(std::vector<int32_t>{2, 10, 11, 3});
  EXPECT_THROW(b->encode(ok, two), BackendError);  // before load()
  b->load(m);
  std::vector<float> expected(2);
  b->encode(ok, expected);

  Batch bad_id;
  bad_id.add(std::vector<int32_t>{2, m.config.vocab_size, 3});
  EXPECT_THROW(b->encode(bad_id, two), BackendError);
  Batch negative_id;
  negative_id.add(std::vector<int32_t>{2, -1, 3});
  EXPECT_THROW(b->encode(negative_id, two), BackendError);
  Batch too_long;
  too_long.add(std::vector<int32_t>(static_cast<size_t>(m.config.max_positions) + 1, 5));
  EXPECT_THROW(b->encode(too_long, two), BackendError);
  Batch empty_seq;
  empty_seq.add(std::vector<int32_t>{});
  EXPECT_THROW(b->encode(empty_seq, two), BackendError);
  Batch bad_offsets = ok;
  bad_offsets.offsets.back() = 2;  // does not cover the tokens
  EXPECT_THROW(b->encode(bad_offsets, two), BackendError);
  std::vector<float> three(3);
  EXPECT_THROW(b->encode(ok, three), BackendError);
  EXPECT_THROW(b->pooled(ok, two), BackendError);

  std::vector<float> after(2);
  b->encode(ok, after);
  EXPECT_EQ(expected, after);
}

TEST_F(CudaBackendTest, RefusesUnsupportedModels) {
  auto b = make_cuda_backend(0);
  EXPECT_THROW(b->load(small_model(256, 2, "mean", 1)), ModelError);  // head dim 128
  Model missing = small_model(32, 2, "mean", 1);
  missing.tensors.erase("encoder.layer.1.attention.self.key.bias");
  EXPECT_THROW(b->load(missing), ModelError);
  Model misshapen = small_model(32, 2, "mean", 1);
  misshapen.tensors.at("classifier.weight").shape = {3, 16, 2};
  EXPECT_THROW(b->load(misshapen), ModelError);
}

TEST(CudaDeviceCount, NeverThrows) {
  int n = -1;
  EXPECT_NO_THROW(n = device_count());
  EXPECT_GE(n, 0);
}

}  // namespace
}  // namespace sf::cuda
