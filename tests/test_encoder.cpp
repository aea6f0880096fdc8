// test_encoder.cpp: the fp32 CPU reference encoder against PyTorch.
//
// Golden outputs come from scripts/gen_encoder_golden.py (transformers' BertModel, fp32,
// eager attention): a tiny random BERT whose Hugging Face directory is committed under
// tests/data/encoder/tiny_bert, and all-MiniLM-L6-v2 (weights not committed; its tests
// skip unless SPAMFORMER_BASE_MODEL_DIR or ~/.cache/spamformer/all-MiniLM-L6-v2 has it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/backend.h"
#include "model/cpu_backend.h"
#include "model/cpu_math.h"
#include "model/cpu_rowops.h"
#include "model/import_hf.h"
#include "model/model.h"
#include "tests/conformance.h"

namespace sf::model {
namespace {

const std::string kData = std::string(SF_TEST_DATA) + "/encoder";

// One golden file pair: <name>.json (ids, array shapes and offsets) + <name>.bin (fp32).
struct Golden {
  nlohmann::json index;
  std::vector<float> blob;

  explicit Golden(const std::string& name) {
    std::ifstream j(kData + "/" + name + ".json");
    if (!j) throw std::runtime_error("cannot read " + name + ".json");
    index = nlohmann::json::parse(j);
    std::ifstream b(kData + "/" + name + ".bin", std::ios::binary | std::ios::ate);
    if (!b) throw std::runtime_error("cannot read " + name + ".bin");
    blob.resize(static_cast<size_t>(b.tellg()) / sizeof(float));
    b.seekg(0);
    b.read(reinterpret_cast<char*>(blob.data()), static_cast<std::streamsize>(blob.size() * 4));
  }
  size_t count() const { return index["sequences"].size(); }
  std::vector<int32_t> ids(size_t s) const {
    return index["sequences"][s]["ids"].get<std::vector<int32_t>>();
  }
  // The array `key` of sequence s, flattened.
  std::vector<float> array(size_t s, const std::string& key) const {
    const auto& a = index["sequences"][s][key];
    size_t n = 1;
    for (const auto& d : a["shape"]) n *= d.get<size_t>();
    const size_t off = a["offset"].get<size_t>();
    if (off + n > blob.size()) throw std::runtime_error("golden array out of range: " + key);
    return {blob.begin() + static_cast<std::ptrdiff_t>(off),
            blob.begin() + static_cast<std::ptrdiff_t>(off + n)};
  }
};

float max_abs(const float* a, const float* b, size_t n) {
  return sf::test::max_abs_diff(a, b, n).diff;
}

const Model& tiny_model() {
  static const Model m = sf::test::load_tiny_bert();
  return m;
}

Batch batch_of(const std::vector<std::vector<int32_t>>& seqs) {
  Batch b;
  for (const auto& s : seqs) b.add(s);
  return b;
}

// Fp32 against PyTorch's fp32: different summation orders, a few ulp per operation;
// 1e-4 absolute on values of magnitude ~1-6 is ~1e-5 relative.
constexpr float kTol = 1e-4f;
// Batched against single runs: only the GEMMs see other sequences, and OpenBLAS picks its
// kernels (hence summation order) by matrix size, so the last few bits may differ.
constexpr float kBatchTol = 1e-5f;

class TinyBert : public ::testing::Test {
 protected:
  const Model& m = tiny_model();
  const Golden golden{"tiny_bert_golden"};
  const size_t H = static_cast<size_t>(tiny_model().config.hidden);
  std::vector<std::vector<int32_t>> all_ids() const {
    std::vector<std::vector<int32_t>> v;
    for (size_t s = 0; s < golden.count(); ++s) v.push_back(golden.ids(s));
    return v;
  }
};

TEST_F(TinyBert, ImportedConfigIsTheOneTheGoldenWasMadeWith) {
  EXPECT_EQ(m.config.hidden, 32);
  EXPECT_EQ(m.config.layers, 2);
  EXPECT_EQ(m.config.heads, 4);
  EXPECT_EQ(m.config.max_positions, 64);
  EXPECT_FLOAT_EQ(m.config.layer_norm_eps, 0.05f);
  EXPECT_EQ(golden.index["hidden"].get<int>(), m.config.hidden);
}

TEST_F(TinyBert, HiddenStatesMatchPyTorchOneSequenceAtATime) {
  const CpuEncoder enc(m, 1);
  for (size_t s = 0; s < golden.count(); ++s) {
    const auto ids = golden.ids(s);
    std::vector<float> out;
    enc.hidden_states(ids, out);
    const auto want = golden.array(s, "hidden");
    ASSERT_EQ(out.size(), ids.size() * H);
    ASSERT_EQ(out.size(), want.size());
    const float d = max_abs(out.data(), want.data(), out.size());
    EXPECT_LE(d, kTol) << "sequence " << s << " (" << ids.size() << " tokens)";
  }
}

TEST_F(TinyBert, HiddenStatesInOnePaddingFreeBatchMatchPyTorchAndSingleRuns) {
  const CpuEncoder enc(m, 2);
  auto seqs = all_ids();
  // Forward and reversed order: a sequence's result must not depend on its neighbours.
  for (bool reversed : {false, true}) {
    if (reversed) std::reverse(seqs.begin(), seqs.end());
    const Batch b = batch_of(seqs);
    std::vector<float> out;
    enc.hidden_states(b, out);
    ASSERT_EQ(out.size(), b.total_tokens() * H);
    for (size_t i = 0; i < seqs.size(); ++i) {
      const size_t s = reversed ? seqs.size() - 1 - i : i;
      const auto want = golden.array(s, "hidden");
      const float* got = out.data() + static_cast<size_t>(b.offsets[i]) * H;
      EXPECT_LE(max_abs(got, want.data(), want.size()), kTol) << "sequence " << s;
      std::vector<float> single;
      enc.hidden_states(seqs[i], single);
      EXPECT_LE(max_abs(got, single.data(), single.size()), kBatchTol)
          << "batched and single results differ for sequence " << s;
    }
  }
}

TEST_F(TinyBert, LayerNormEpsComesFromTheConfig) {
  // The fixture's eps (0.05) is far from BERT's usual 1e-12; with the usual value the
  // states must be visibly off, so the test above would catch an ignored config.
  Model other = m;
  other.config.layer_norm_eps = 1e-12f;
  const CpuEncoder enc(other);
  const auto ids = golden.ids(4);
  std::vector<float> out;
  enc.hidden_states(ids, out);
  const auto want = golden.array(4, "hidden");
  EXPECT_GT(max_abs(out.data(), want.data(), want.size()), 1e-2f);
}

TEST_F(TinyBert, MeanPooledAndLogitsMatch) {
  ASSERT_EQ(m.config.pooling, "mean");
  const CpuEncoder enc(m);
  const Batch b = batch_of(all_ids());
  const size_t nl = static_cast<size_t>(m.config.num_labels);
  std::vector<float> pooled(b.size() * H), logits(b.size() * nl);
  enc.pooled(b, pooled);
  enc.logits(b, logits);
  for (size_t s = 0; s < b.size(); ++s) {
    const auto wp = golden.array(s, "pooled_mean");
    const auto wl = golden.array(s, "logits_mean");
    EXPECT_LE(max_abs(pooled.data() + s * H, wp.data(), H), kTol) << "sequence " << s;
    EXPECT_LE(max_abs(logits.data() + s * nl, wl.data(), nl), kTol) << "sequence " << s;
  }
}

TEST_F(TinyBert, ClsPooledAndLogitsMatch) {
  Model cls = m;
  cls.config.pooling = "cls";
  const CpuEncoder enc(cls);
  const Batch b = batch_of(all_ids());
  const size_t nl = static_cast<size_t>(m.config.num_labels);
  std::vector<float> pooled(b.size() * H), logits(b.size() * nl);
  enc.pooled(b, pooled);
  enc.logits(b, logits);
  for (size_t s = 0; s < b.size(); ++s) {
    const auto wp = golden.array(s, "pooled_cls");
    const auto wl = golden.array(s, "logits_cls");
    EXPECT_LE(max_abs(pooled.data() + s * H, wp.data(), H), kTol) << "sequence " << s;
    EXPECT_LE(max_abs(logits.data() + s * nl, wl.data(), nl), kTol) << "sequence " << s;
  }
}

TEST_F(TinyBert, ConcurrentCallsFromSeveralThreadsAgree) {
  const CpuEncoder enc(m, 2);
  const Batch b = batch_of(all_ids());
  std::vector<float> want;
  enc.hidden_states(b, want);
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> ts;
  for (auto& g : got) ts.emplace_back([&] { enc.hidden_states(b, g); });
  for (auto& t : ts) t.join();
  for (const auto& g : got) {
    ASSERT_EQ(g.size(), want.size());
    EXPECT_LE(max_abs(g.data(), want.data(), g.size()), 1e-6f);
  }
}

TEST_F(TinyBert, RejectsTokenIdsOutsideTheVocabulary) {
  const CpuEncoder enc(m);
  std::vector<float> out;
  const int32_t v = m.config.vocab_size;
  for (int32_t bad : {v, v + 1000, -1}) {
    const std::vector<int32_t> ids = {2, 7, bad, 3};
    EXPECT_THROW(enc.hidden_states(ids, out), BackendError) << "id " << bad;
  }
  // The last valid id is fine.
  EXPECT_NO_THROW(enc.hidden_states(std::vector<int32_t>{2, v - 1, 3}, out));
  // A bad id in the second sequence of a batch is found too.
  Batch b = batch_of({{2, 5, 3}, {2, v, 3}});
  std::vector<float> logits(b.size() * 2);
  EXPECT_THROW(enc.logits(b, logits), BackendError);
}

TEST_F(TinyBert, RejectsOverlongEmptyAndMalformedBatches) {
  const CpuEncoder enc(m);
  std::vector<float> out;
  std::vector<int32_t> ids(static_cast<size_t>(m.config.max_positions), 9);
  EXPECT_NO_THROW(enc.hidden_states(ids, out));
  ids.push_back(9);
  EXPECT_THROW(enc.hidden_states(ids, out), BackendError);
  EXPECT_THROW(enc.hidden_states(std::vector<int32_t>{}, out), BackendError);
  Batch broken = batch_of({{2, 5, 3}});
  broken.offsets.back() = 2;  // offsets no longer cover the tokens
  EXPECT_THROW(enc.hidden_states(broken, out), BackendError);
  // Output spans of the wrong size.
  const Batch b = batch_of({{2, 5, 3}, {2, 6, 3}});
  std::vector<float> small(b.size() * H - 1);
  EXPECT_THROW(enc.pooled(b, small), BackendError);
  EXPECT_THROW(enc.logits(b, small), BackendError);
}

TEST_F(TinyBert, MissingOrMisshapenTensorIsAModelError) {
  Model missing = m;
  missing.tensors.erase(layer_tensor(1, "output.LayerNorm.bias"));
  EXPECT_THROW(CpuEncoder{missing}, ModelError);
  Model misshapen = m;
  misshapen.tensors["classifier.weight"].shape = {3, 32};
  EXPECT_THROW(CpuEncoder{misshapen}, ModelError);
  Model act = m;
  act.config.activation = "relu";
  EXPECT_THROW(CpuEncoder{act}, ModelError);
}

TEST_F(TinyBert, CpuBackendWrapsTheEncoder) {
  auto backend = make_cpu_backend(3);
  const Capabilities caps = backend->capabilities();
  EXPECT_EQ(caps.name, "cpu-fp32");
  EXPECT_EQ(caps.device, "CPU (3 threads)");
  EXPECT_FALSE(caps.int8);
  const Batch b = batch_of(all_ids());
  std::vector<float> logits(b.size() * 2), pooled(b.size() * H);
  EXPECT_THROW(backend->encode(b, logits), BackendError);  // not loaded yet
  backend->load(m);
  EXPECT_EQ(backend->capabilities().max_sequence, m.config.max_positions);
  backend->encode(b, logits);
  backend->pooled(b, pooled);
  for (size_t s = 0; s < b.size(); ++s) {
    const auto wl = golden.array(s, "logits_mean");
    const auto wp = golden.array(s, "pooled_mean");
    EXPECT_LE(max_abs(logits.data() + s * 2, wl.data(), 2), kTol) << "sequence " << s;
    EXPECT_LE(max_abs(pooled.data() + s * H, wp.data(), H), kTol) << "sequence " << s;
  }
}

// The vectorisable exp and erf the encoder uses instead of libm, against double libm.
TEST(CpuMath, ExpNonpositiveIsWithinThreeUlp) {
  EXPECT_EQ(exp_nonpositive(0.0f), 1.0f);
  for (float x = -87.0f; x <= 0.0f; x += 0.000731f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = exp_nonpositive(x);
    ASSERT_LE(std::fabs(got - want), 3 * 1.19e-7 * want) << "x = " << x;
  }
  for (float x : {-87.5f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()}) {
    EXPECT_GE(exp_nonpositive(x), 0.0f) << x;
    EXPECT_LT(exp_nonpositive(x), 2e-38f) << x;
  }
}

TEST(CpuMath, ErfIsAsAccurateAsLibm) {
  float worst = 0.0f;
  for (float x = -6.0f; x <= 6.0f; x += 0.0000917f) {
    const double want = std::erf(static_cast<double>(x));
    worst = std::max(worst, static_cast<float>(std::fabs(erf_f32(x) - want)));
  }
  EXPECT_LE(worst, 2e-7f);  // about one ulp of values near 1; glibc's erff: 1.2e-7
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(erf_f32(inf), 1.0f);
  EXPECT_EQ(erf_f32(-inf), -1.0f);
  EXPECT_EQ(erf_f32(30.0f), 1.0f);
  EXPECT_EQ(erf_f32(0.0f), 0.0f);
  EXPECT_NEAR(erf_f32(1e-20f), 1.1283791670955126e-20, 1e-26);
  EXPECT_TRUE(std::isnan(erf_f32(std::nanf(""))));
}

TEST(CpuRowOps, GeluIsExactErfGelu) {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.00113f) x.push_back(v);
  std::vector<float> y = x;
  gelu(y.data(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double xd = x[i];
    const double want = 0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0)));
    // Within rounding of x / sqrt(2) and of the result: the same bound glibc's erff meets.
    ASSERT_LE(std::fabs(y[i] - want), 2e-7 + 6e-8 * std::fabs(xd)) << "x = " << x[i];
  }
  // Not the tanh approximation, which is off by ~1e-4 around |x| = 2.
  std::vector<float> two = {2.0f};
  gelu(two.data(), 1);
  EXPECT_NEAR(two[0], 1.9544997f, 2e-7f);
}

TEST(CpuRowOps, LayerNormMatchesDouble) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.5f, 2.0f);
  for (size_t n : {384u, 37u, 5u}) {
    std::vector<float> x(n), g(n), b(n);
    for (size_t i = 0; i < n; ++i) x[i] = nd(rng), g[i] = nd(rng), b[i] = nd(rng);
    double mean = 0, var = 0;
    for (float v : x) mean += v;
    mean /= static_cast<double>(n);
    for (float v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(n);
    const float eps = 1e-5f;
    std::vector<float> y = x;
    layer_norm(y.data(), g.data(), b.data(), n, eps);
    for (size_t i = 0; i < n; ++i) {
      const double want = (x[i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
      EXPECT_NEAR(y[i], want, 1e-5) << "n = " << n << ", i = " << i;
    }
  }
}

TEST(SpamProbability, IsTheTemperedSoftmaxOfTheSpamLabel) {
  Config c;
  c.num_labels = 2;
  c.spam_label = 1;
  c.temperature = 1.0f;
  const float ln3 = std::log(3.0f);
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, 0.0f}), 0.5f, 1e-7f);
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, ln3}), 0.75f, 1e-6f);
  EXPECT_NEAR(spam_probability(c, std::vector<float>{5.0f, 5.0f + ln3}), 0.75f, 1e-6f);
  c.temperature = 2.0f;  // logits are divided by T before the softmax
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, 2.0f * ln3}), 0.75f, 1e-6f);
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, ln3}),
              std::sqrt(3.0f) / (1 + std::sqrt(3.0f)), 1e-6f);
  c.spam_label = 0;
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, 2.0f * ln3}), 0.25f, 1e-6f);
  c.num_labels = 3;
  c.spam_label = 2;
  c.temperature = 1.0f;
  EXPECT_NEAR(spam_probability(c, std::vector<float>{0.0f, 0.0f, std::log(2.0f)}), 0.5f, 1e-6f);
}

TEST(SpamProbability, IsStableForExtremeLogits) {
  Config c;
  c.temperature = 0.5f;
  const float spam = spam_probability(c, std::vector<float>{-1e30f, 1e30f});
  const float ham = spam_probability(c, std::vector<float>{1e30f, -1e30f});
  EXPECT_EQ(spam, 1.0f);
  EXPECT_EQ(ham, 0.0f);
  EXPECT_NEAR(spam_probability(c, std::vector<float>{1e30f, 1e30f}), 0.5f, 1e-7f);
}

TEST(SpamProbability, RejectsWrongLogitCountAndBadTemperature) {
  Config c;
  EXPECT_THROW(spam_probability(c, std::vector<float>{1.0f}), BackendError);
  c.temperature = 0.0f;
  EXPECT_THROW(spam_probability(c, std::vector<float>{1.0f, 2.0f}), ModelError);
  c.temperature = 1.0f;
  c.spam_label = 2;
  EXPECT_THROW(spam_probability(c, std::vector<float>{1.0f, 2.0f}), ModelError);
}

// The real all-MiniLM-L6-v2: rows 0..7 and the last 8 of last_hidden_state, and the
// mean-pooled vector, for sequences of 9, 64, 128 and 256 tokens.
TEST(MiniLM, HiddenStatesAndPooledMatchPyTorch) {
  const std::string dir = sf::test::base_model_dir();
  if (dir.empty()) {
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SPAMFORMER_BASE_MODEL_DIR to its Hugging "
                    "Face directory (or put it in ~/.cache/spamformer/all-MiniLM-L6-v2)";
  }
  const Model m = import_hf(dir, ImportOptions{});
  ASSERT_EQ(m.config.hidden, 384);
  const Golden golden("minilm_golden");
  const size_t H = 384;
  const size_t rows = golden.index["rows"].get<size_t>();
  const CpuEncoder enc(m);
  float worst = 0.0f;
  Batch all;
  for (size_t s = 0; s < golden.count(); ++s) all.add(golden.ids(s));
  std::vector<float> batched;
  enc.hidden_states(all, batched);
  std::vector<float> pooled(all.size() * H);
  enc.pooled(all, pooled);
  for (size_t s = 0; s < golden.count(); ++s) {
    const auto ids = golden.ids(s);
    std::vector<float> out;
    enc.hidden_states(ids, out);
    ASSERT_EQ(out.size(), ids.size() * H);
    const auto head = golden.array(s, "head_rows");
    const auto tail = golden.array(s, "tail_rows");
    const auto mean = golden.array(s, "pooled_mean");
    const float dh = max_abs(out.data(), head.data(), rows * H);
    const float dt = max_abs(out.data() + (ids.size() - rows) * H, tail.data(), rows * H);
    const float dp = max_abs(pooled.data() + s * H, mean.data(), H);
    const float db =
        max_abs(batched.data() + static_cast<size_t>(all.offsets[s]) * H, out.data(), out.size());
    EXPECT_LE(dh, kTol) << ids.size() << " tokens, first rows";
    EXPECT_LE(dt, kTol) << ids.size() << " tokens, last rows";
    EXPECT_LE(dp, kTol) << ids.size() << " tokens, mean pooled";
    EXPECT_LE(db, kBatchTol) << ids.size() << " tokens, batched vs single";
    worst = std::max({worst, dh, dt, dp});
    std::printf("[minilm] %zu tokens: max |diff| first rows %.3g, last rows %.3g, pooled %.3g\n",
                ids.size(), static_cast<double>(dh), static_cast<double>(dt),
                static_cast<double>(dp));
  }
  RecordProperty("max_abs_diff", std::to_string(worst));
}

}  // namespace
}  // namespace sf::model
