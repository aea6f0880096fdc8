// test_cuda_int8.cpp: the quantized CUDA backends ("cuda-int8", "cuda-fp8") held to the
// fp32 CPU reference, and the execution paths (CUDA graphs, chunks, plain launches) held
// to each other.
//
// Tolerances (absolute, against CpuEncoder; set about 3x above what a float64 emulation of
// the same quantization scheme predicted, in PyTorch, outside the repository):
//   int8, tiny fixture (hidden 32, head dim 8, fp32 attention): logits 0.4, pooled 0.3
//     (emulated worst over 64 sequences: mean pooling 0.066 / 0.077, [CLS] 0.15 / 0.10;
//     its logits reach 8 in magnitude);
//   int8, random MiniLM shape (6 x 384, head dim 32, tensor-core attention), lengths 128
//     to 512: logits and pooled 0.15, relative L2 error of each pooled vector <= 0.04
//     (emulated: 0.05 max-abs, 0.013 relative);
//   int8, p(spam) with the head scaled so the mean |logit difference| is 1: at least 85%
//     of messages within 0.01, p99 <= 0.02, none beyond 0.03 (measured on an H200: 91.5%,
//     0.013, 0.017; the emulation, on other lengths and another head, said max 0.005);
//   fp8 e4m3, MiniLM shape: logits 0.5, pooled 1.0, relative L2 0.2 (emulated 0.34
//     max-abs, 0.09 relative: fp8 is measured, not the shipping format).
// Exact: int8 results are bitwise the same through a CUDA graph, in chunks, or through
// plain launches (the products are integer-exact), and for repeated calls.
// Without a GPU (CI) every GPU test is SKIPPED, never passed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda_backend.h"
#include "kernels/quant_backend.h"
#include "kernels/random_model.h"
#include "model/backend.h"
#include "model/cpu_backend.h"
#include "tests/conformance.h"

namespace sf::cuda {
namespace {

using sf::model::Backend;
using sf::model::BackendError;
using sf::model::Batch;
using sf::model::Config;
using sf::model::Model;
using sf::model::ModelError;

class CudaInt8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA GPU";
  }
};

std::unique_ptr<Backend> int8_backend(bool graphs = true, int chunk_tokens = 0,
                                      bool tensor_cores = true) {
  QuantOptions o;
  o.graphs = graphs;
  o.chunk_tokens = chunk_tokens;
  o.tensor_core_attention = tensor_cores;
  return make_cuda_quant_backend(0, o);
}

std::unique_ptr<Backend> fp8_backend(bool graphs = true) {
  QuantOptions o;
  o.format = QuantFormat::kFp8;
  o.graphs = graphs;
  return make_cuda_quant_backend(0, o);
}

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

struct Outputs {
  std::vector<float> logits, pooled;
};

Outputs run(Backend& b, const Model& m, const Batch& batch) {
  Outputs o;
  o.logits.assign(batch.size() * static_cast<size_t>(m.config.num_labels), std::nanf(""));
  o.pooled.assign(batch.size() * static_cast<size_t>(m.config.hidden), std::nanf(""));
  b.encode(batch, o.logits);
  b.pooled(batch, o.pooled);
  return o;
}

Outputs reference(const Model& m, const Batch& batch) {
  Outputs o;
  o.logits.resize(batch.size() * static_cast<size_t>(m.config.num_labels));
  o.pooled.resize(batch.size() * static_cast<size_t>(m.config.hidden));
  const sf::model::CpuEncoder ref(m);
  ref.logits(batch, o.logits);
  ref.pooled(batch, o.pooled);
  return o;
}

// Largest over sequences of |got - ref| / |ref| (L2 norms of the pooled vectors).
double worst_relative_l2(const std::vector<float>& got, const std::vector<float>& ref,
                         size_t width) {
  double worst = 0.0;
  for (size_t s = 0; s * width < ref.size(); ++s) {
    double num = 0.0, den = 0.0;
    for (size_t c = 0; c < width; ++c) {
      const double d = static_cast<double>(got[s * width + c]) - ref[s * width + c];
      num += d * d;
      den += static_cast<double>(ref[s * width + c]) * ref[s * width + c];
    }
    const double r = std::sqrt(num / std::max(den, 1e-30));
    worst = std::isnan(r) ? INFINITY : std::max(worst, r);
  }
  return worst;
}

TEST(GraphBuckets, SmallestCoveringBucket) {
  EXPECT_EQ(graph_token_bucket(0), 64);
  EXPECT_EQ(graph_token_bucket(1), 64);
  EXPECT_EQ(graph_token_bucket(64), 64);
  EXPECT_EQ(graph_token_bucket(65), 96);
  EXPECT_EQ(graph_token_bucket(96), 96);
  EXPECT_EQ(graph_token_bucket(97), 128);
  EXPECT_EQ(graph_token_bucket(129), 192);
  EXPECT_EQ(graph_token_bucket(193), 256);
  EXPECT_EQ(graph_token_bucket(5000), 6144);
  EXPECT_EQ(graph_token_bucket(8192), 8192);
  EXPECT_EQ(graph_token_bucket(8193), 12288);
}

TEST_F(CudaInt8Test, ReportsNameAndDevice) {
  auto b = int8_backend();
  const auto caps = b->capabilities();
  EXPECT_EQ(caps.name, "cuda-int8");
  EXPECT_TRUE(caps.int8);
  EXPECT_FALSE(caps.device.empty());
  EXPECT_EQ(fp8_backend()->capabilities().name, "cuda-fp8");
  std::printf("[cuda-int8] device 0: %s (%d visible)\n", caps.device.c_str(), device_count());
}

TEST_F(CudaInt8Test, TinyBertMatchesReference) {
  const Model m = sf::test::load_tiny_bert();
  const auto seqs = sf::test::make_conformance_sequences(m, 64);
  auto b = int8_backend();
  sf::test::expect_backend_matches_reference(*b, m, seqs, 0.4f, 0.3f);
}

TEST_F(CudaInt8Test, TinyBertClsPoolingMatchesReference) {
  Model m = sf::test::load_tiny_bert();
  m.config.pooling = "cls";
  const auto seqs = sf::test::make_conformance_sequences(m, 64, 0, 99);
  auto b = int8_backend();
  sf::test::expect_backend_matches_reference(*b, m, seqs, 0.4f, 0.3f);
}

// Head dims 16, 32 and 64 (tensor-core attention) and 20 (the fp32 kernel), lengths up to
// 200 (several key and query tiles, partial last tiles); and every one of them again with
// the fp32 attention kernel forced.
TEST_F(CudaInt8Test, AttentionWidthsMatchReference) {
  struct Shape {
    int hidden, heads;
    const char* pooling;
  };
  for (bool tensor_cores : {true, false}) {
    for (const Shape& s :
         {Shape{48, 3, "mean"}, Shape{64, 2, "mean"}, Shape{60, 3, "cls"}, Shape{128, 2, "mean"}}) {
      SCOPED_TRACE("hidden " + std::to_string(s.hidden) + ", heads " + std::to_string(s.heads) +
                   (tensor_cores ? ", tensor-core attention" : ", fp32 attention"));
      const Model m = small_model(s.hidden, s.heads, s.pooling, 7 + s.hidden);
      const auto seqs = sequences(40, 1, 200, m.config.vocab_size, 11 + s.hidden);
      auto b = int8_backend(true, 0, tensor_cores);
      sf::test::expect_backend_matches_reference(*b, m, seqs, 0.15f, 0.15f);
    }
  }
}

// Every attention path in one batch each (head dims 16, 32, 64 on tensor cores, 20 on the
// fp32 kernel), lengths straddling the 16-query groups and 64-key tiles, one call each:
// small enough for compute-sanitizer racecheck (scripts/gpu_check.sh).
TEST_F(CudaInt8Test, EveryHeadDimInOneBatch) {
  struct Shape {
    int hidden, heads;
  };
  const std::vector<int> lengths = {1, 2, 15, 16, 17, 63, 64, 65, 127, 129, 200};
  for (const Shape& s : {Shape{48, 3}, Shape{60, 3}, Shape{64, 2}, Shape{128, 2}}) {
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
    const Outputs ref = reference(m, batch);
    auto b = int8_backend(false);
    b->load(m);
    const Outputs got = run(*b, m, batch);
    const size_t h = static_cast<size_t>(m.config.hidden);
    const size_t nl = static_cast<size_t>(m.config.num_labels);
    const auto wp = sf::test::max_abs_diff(got.pooled.data(), ref.pooled.data(), ref.pooled.size());
    const auto wl = sf::test::max_abs_diff(got.logits.data(), ref.logits.data(), ref.logits.size());
    EXPECT_LE(wp.diff, 0.15f) << "pooled, sequence of length " << lengths[wp.index / h];
    EXPECT_LE(wl.diff, 0.15f) << "logits, sequence of length " << lengths[wl.index / nl];
  }
}

TEST_F(CudaInt8Test, RandomMiniLmShapeMatchesReference) {
  const Model m = random_model(Config{}, 2024);
  ASSERT_EQ(m.config.hidden / m.config.heads, 32);
  const auto seqs = sequences(64, 128, 512, m.config.vocab_size, 31);
  auto b = int8_backend();
  sf::test::expect_backend_matches_reference(*b, m, seqs, 0.15f, 0.15f);
  const Batch batch = make_batch(seqs);
  const Outputs ref = reference(m, batch), got = run(*b, m, batch);
  const double rel =
      worst_relative_l2(got.pooled, ref.pooled, static_cast<size_t>(m.config.hidden));
  std::printf("[cuda-int8] MiniLM shape: worst relative L2 error of a pooled vector %.4f\n", rel);
  EXPECT_LE(rel, 0.04);
}

// The acceptance (p within 0.01 of the fp32 reference for >= 99.9% of messages) on
// a random MiniLM-shaped model: the random head is scaled so that the mean
// |logit(spam) - logit(ham)| over these messages is 1 (p spread around 0.27 / 0.73, where
// p is most sensitive to the logits). Measured on an H200 (2026-11-22): p50 0.005, p99
// 0.013, max 0.017, 91.5% within 0.01: this proxy does NOT meet the acceptance; the test
// holds the distribution where it is (a regression fails it) and prints it.
TEST_F(CudaInt8Test, ProbabilityErrorDistributionOnMiniLmShape) {
  Model m = random_model(Config{}, 77);
  const auto seqs = sequences(200, 8, 512, m.config.vocab_size, 5);
  const Batch batch = make_batch(seqs);
  const size_t n = batch.size(), h = static_cast<size_t>(m.config.hidden);
  std::vector<float> pooled(n * h);
  sf::model::CpuEncoder(m).pooled(batch, pooled);
  auto& w = m.tensors.at("classifier.weight").data;
  auto& bias = m.tensors.at("classifier.bias").data;
  double mean_abs = 0.0;
  for (size_t s = 0; s < n; ++s) {
    double d = static_cast<double>(bias[1]) - bias[0];
    for (size_t c = 0; c < h; ++c) d += (static_cast<double>(w[h + c]) - w[c]) * pooled[s * h + c];
    mean_abs += std::fabs(d) / static_cast<double>(n);
  }
  ASSERT_GT(mean_abs, 0.0);
  for (float& v : w) v = static_cast<float>(v / mean_abs);
  for (float& v : bias) v = static_cast<float>(v / mean_abs);

  const Outputs ref = reference(m, batch);
  auto b = int8_backend();
  b->load(m);
  const Outputs got = run(*b, m, batch);
  std::vector<double> dp(n);
  const size_t nl = static_cast<size_t>(m.config.num_labels);
  for (size_t s = 0; s < n; ++s) {
    const float p_ref = sf::model::spam_probability(
        m.config, std::span<const float>(ref.logits).subspan(s * nl, nl));
    const float p_got = sf::model::spam_probability(
        m.config, std::span<const float>(got.logits).subspan(s * nl, nl));
    dp[s] = std::fabs(static_cast<double>(p_got) - p_ref);
  }
  std::sort(dp.begin(), dp.end());
  auto q = [&](double f) { return dp[std::min(n - 1, static_cast<size_t>(f * (n - 1)))]; };
  const double within =
      static_cast<double>(std::upper_bound(dp.begin(), dp.end(), 0.01) - dp.begin()) / n;
  std::printf(
      "[cuda-int8] |dp| over %zu messages: p50 %.5f p90 %.5f p99 %.5f max %.5f; within 0.01: "
      "%.1f%%\n",
      n, q(0.5), q(0.9), q(0.99), dp.back(), 100.0 * within);
  const double rel = worst_relative_l2(got.pooled, ref.pooled, h);
  std::printf("[cuda-int8] worst relative L2 error of a pooled vector %.4f\n", rel);
  EXPECT_GE(within, 0.85);
  EXPECT_LE(q(0.99), 0.02);
  EXPECT_LE(dp.back(), 0.03);
  EXPECT_LE(rel, 0.04);
}

// Graph replay (padded to a bucket) and plain launches give the same bits, for batch
// shapes from one 1-token sequence up to 64 sequences, first call (capture) and replays.
TEST_F(CudaInt8Test, GraphPathEqualsDirectPath) {
  for (int which = 0; which < 2; ++which) {
    const Model m = which == 0 ? small_model(64, 2, "mean", 5) : sf::test::load_tiny_bert();
    SCOPED_TRACE(which == 0 ? "head dim 32 (tensor cores)" : "tiny fixture (fp32 attention)");
    const int longest = std::min(150, m.config.max_positions);
    std::vector<Batch> shapes = {
        make_batch(sequences(1, 1, 1, m.config.vocab_size, 1)),
        make_batch(sequences(1, longest, longest, m.config.vocab_size, 2)),
        make_batch(sequences(7, 1, longest, m.config.vocab_size, 3)),
        make_batch(sequences(33, 1, longest, m.config.vocab_size, 4)),
        make_batch(sequences(64, 20, longest, m.config.vocab_size, 6)),
    };
    auto graphs = int8_backend(true);
    auto direct = int8_backend(false);
    graphs->load(m);
    direct->load(m);
    for (size_t i = 0; i < shapes.size(); ++i) {
      SCOPED_TRACE("shape " + std::to_string(i) + ": " + std::to_string(shapes[i].size()) +
                   " sequences, " + std::to_string(shapes[i].total_tokens()) + " tokens");
      const Outputs want = run(*direct, m, shapes[i]);
      for (int rep = 0; rep < 3; ++rep) {
        const Outputs got = run(*graphs, m, shapes[i]);
        EXPECT_EQ(got.logits, want.logits) << "call " << rep;
        EXPECT_EQ(got.pooled, want.pooled) << "call " << rep;
      }
    }
    const QuantStats gs = quant_stats(*graphs), ds = quant_stats(*direct);
    std::printf("[cuda-int8] graphs: %zu captured, %zu replays, %zu direct runs\n",
                gs.graphs_captured, gs.graph_replays, gs.direct_runs);
    EXPECT_GT(gs.graphs_captured, 0u);
    EXPECT_GT(gs.graph_replays, 2 * gs.graphs_captured - 1);
    EXPECT_EQ(ds.graphs_captured, 0u);
    EXPECT_EQ(ds.graph_replays, 0u);
  }
}

// Sub-batches of at most 300 tokens (graphs off, then on) give the same bits as the
// whole batch at once.
TEST_F(CudaInt8Test, ChunkedEqualsWhole) {
  const Model m = small_model(64, 2, "mean", 9);
  const Batch batch = make_batch(sequences(50, 1, 200, m.config.vocab_size, 8));
  auto whole = int8_backend(false);
  whole->load(m);
  const Outputs want = run(*whole, m, batch);
  for (bool graphs : {false, true}) {
    SCOPED_TRACE(graphs ? "chunks through graphs" : "chunks launched directly");
    auto chunked = int8_backend(graphs, 300);
    chunked->load(m);
    for (int rep = 0; rep < 2; ++rep) {
      const Outputs got = run(*chunked, m, batch);
      EXPECT_EQ(got.logits, want.logits);
      EXPECT_EQ(got.pooled, want.pooled);
    }
    const QuantStats s = quant_stats(*chunked);
    EXPECT_GT(s.graph_replays + s.direct_runs, 4u * 2u) << "the batch was not split";
  }
}

// Scales carried by the model file (quant.scheme "int8-per-channel") are the ones used.
TEST_F(CudaInt8Test, PrecomputedScalesAreUsed) {
  const Model plain = sf::test::load_tiny_bert();
  const Batch batch = make_batch(sf::test::make_conformance_sequences(plain, 20));
  auto b = int8_backend();
  b->load(plain);
  const Outputs computed = run(*b, plain, batch);

  // The same scales the backend computes (max |w| / 127 per output row) give the same bits.
  auto with_scales = [&](float factor) {
    Model m = plain;
    m.config.quantization = "int8-per-channel";
    for (const auto& [name, t] : plain.tensors) {
      const bool linear = name.find("encoder.layer.") == 0 && t.shape.size() == 2;
      if (!linear) continue;
      sf::model::Tensor s;
      s.shape = {t.shape[0]};
      for (int64_t r = 0; r < t.shape[0]; ++r) {
        float amax = 0.f;
        for (int64_t c = 0; c < t.shape[1]; ++c) {
          amax = std::max(amax, std::fabs(t.data[static_cast<size_t>(r * t.shape[1] + c)]));
        }
        s.data.push_back(amax / 127.0f * factor);
      }
      m.tensors.emplace(name + ".scale", std::move(s));
    }
    return m;
  };
  const Model same = with_scales(1.0f);
  b->load(same);
  const Outputs again = run(*b, same, batch);
  EXPECT_EQ(again.logits, computed.logits);
  EXPECT_EQ(again.pooled, computed.pooled);

  // Coarser scales (x 3: a third of the int8 range) change the result but stay close.
  const Model coarse = with_scales(3.0f);
  b->load(coarse);
  const Outputs other = run(*b, coarse, batch);
  EXPECT_NE(other.logits, computed.logits);
  const Outputs ref = reference(plain, batch);
  EXPECT_LE(sf::test::max_abs_diff(other.logits.data(), ref.logits.data(), ref.logits.size()).diff,
            1.0f);

  Model missing = same;
  missing.tensors.erase("encoder.layer.1.output.dense.weight.scale");
  EXPECT_THROW(b->load(missing), ModelError);
  Model zero = same;
  zero.tensors.at("encoder.layer.0.intermediate.dense.weight.scale").data[3] = 0.0f;
  EXPECT_THROW(b->load(zero), ModelError);
  Model short_scale = same;
  short_scale.tensors.at("encoder.layer.0.attention.self.key.weight.scale").data.pop_back();
  EXPECT_THROW(b->load(short_scale), ModelError);
}

TEST_F(CudaInt8Test, Fp8RandomMiniLmShapeMatchesReference) {
  const Model m = random_model(Config{}, 2024);
  const auto seqs = sequences(32, 128, 512, m.config.vocab_size, 32);
  auto b = fp8_backend();
  sf::test::expect_backend_matches_reference(*b, m, seqs, 0.5f, 1.0f);
  const Batch batch = make_batch(seqs);
  const Outputs ref = reference(m, batch), got = run(*b, m, batch);
  const double rel =
      worst_relative_l2(got.pooled, ref.pooled, static_cast<size_t>(m.config.hidden));
  std::printf("[cuda-fp8] MiniLM shape: worst relative L2 error of a pooled vector %.4f\n", rel);
  EXPECT_LE(rel, 0.2);
}

// Same input, same bits: no races, and buffers grown for a large batch carry nothing
// over into later small ones.
TEST_F(CudaInt8Test, RepeatedCallsAreBitwiseIdentical) {
  const Model m = small_model(64, 2, "mean", 3);
  for (bool graphs : {false, true}) {
    SCOPED_TRACE(graphs ? "graphs" : "direct");
    auto b = int8_backend(graphs);
    b->load(m);
    const Batch small = make_batch(sequences(5, 1, 150, m.config.vocab_size, 1));
    const Batch large = make_batch(sequences(100, 100, 200, m.config.vocab_size, 2));
    const Outputs first = run(*b, m, small);
    const Outputs big = run(*b, m, large);
    for (float v : big.logits) ASSERT_TRUE(std::isfinite(v));
    for (int rep = 0; rep < 3; ++rep) {
      const Outputs again = run(*b, m, small);
      EXPECT_EQ(first.logits, again.logits) << "repeat " << rep;
      EXPECT_EQ(first.pooled, again.pooled) << "repeat " << rep;
    }
  }
}

TEST_F(CudaInt8Test, EmptyBatchIsANoOp) {
  const Model m = sf::test::load_tiny_bert();
  auto b = int8_backend();
  b->load(m);
  Batch empty;
  std::vector<float> none;
  EXPECT_NO_THROW(b->encode(empty, none));
  EXPECT_NO_THROW(b->pooled(empty, none));
}

TEST_F(CudaInt8Test, RefusesBadInputAndStaysUsable) {
  const Model m = sf::test::load_tiny_bert();
  auto b = int8_backend();
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
  Batch too_long;
  too_long.add(std::vector<int32_t>(static_cast<size_t>(m.config.max_positions) + 1, 5));
  EXPECT_THROW(b->encode(too_long, two), BackendError);
  Batch empty_seq;
  empty_seq.add(std::vector<int32_t>{});
  EXPECT_THROW(b->encode(empty_seq, two), BackendError);
  Batch bad_offsets = ok;
  bad_offsets.offsets.back() = 2;
  EXPECT_THROW(b->encode(bad_offsets, two), BackendError);
  std::vector<float> three(3);
  EXPECT_THROW(b->encode(ok, three), BackendError);

  std::vector<float> after(2);
  b->encode(ok, after);
  EXPECT_EQ(expected, after);
}

TEST_F(CudaInt8Test, RefusesUnsupportedModels) {
  auto b = int8_backend();
  EXPECT_THROW(b->load(small_model(256, 2, "mean", 1)), ModelError);  // head dim 128
  EXPECT_THROW(b->load(small_model(30, 3, "mean", 1)), ModelError);   // hidden not 4k
  Model scheme = small_model(32, 2, "mean", 1);
  scheme.config.quantization = "int4-groups";
  EXPECT_THROW(b->load(scheme), ModelError);
  Model missing = small_model(32, 2, "mean", 1);
  missing.tensors.erase("encoder.layer.1.attention.self.key.bias");
  EXPECT_THROW(b->load(missing), ModelError);
  EXPECT_THROW(fp8_backend()->load(small_model(40, 2, "mean", 1)), ModelError);  // not 16k
}

// One replica per visible GPU, each on its own device, all giving the same answer.
TEST_F(CudaInt8Test, ReplicasOnePerDevice) {
  const Model m = sf::test::load_tiny_bert();
  const Batch batch = make_batch(sf::test::make_conformance_sequences(m, 9));
  auto replicas = make_cuda_replicas("cuda-int8");
  ASSERT_EQ(replicas.size(), static_cast<size_t>(device_count()));
  auto single = int8_backend();
  single->load(m);
  const Outputs want = run(*single, m, batch);
  for (auto& r : replicas) {
    EXPECT_EQ(r->capabilities().name, "cuda-int8");
    r->load(m);
    EXPECT_EQ(run(*r, m, batch).logits, want.logits) << r->capabilities().device;
  }
  EXPECT_EQ(make_cuda_replicas("cuda-fp32").size(), replicas.size());
  EXPECT_THROW(make_cuda_replicas("cuda-int3"), BackendError);
}

}  // namespace
}  // namespace sf::cuda
