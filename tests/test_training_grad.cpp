// test_training_grad.cpp: every layer's backward pass (training/grad_ops.h)
// and the whole model's gradient (training/bert_grad.h) against central
// finite differences in double precision; the attention mask of packed
// sequences; and the fp32 training forward against the reference encoder.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "conformance.h"
#include "model/cpu_backend.h"
#include "training/bert_grad.h"
#include "training/grad_ops.h"
#include "training/rng.h"

using namespace sf::train;
using Vec = std::vector<double>;

namespace {

Vec random_vec(size_t n, uint64_t seed, double scale = 1.0) {
  Rng r(seed);
  Vec v(n);
  for (auto& x : v) x = scale * r.normal();
  return v;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Checks analytic gradient `g` of f at x against central differences, element by element.
void expect_gradient(const std::string& what, Vec& x, const Vec& g,
                     const std::function<double()>& f, double tol = 1e-6) {
  ASSERT_EQ(x.size(), g.size()) << what;
  const double h = 1e-5;
  double worst = 0;
  size_t worst_i = 0;
  double scale = 1e-3;
  for (double v : g) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < x.size(); ++i) {
    double keep = x[i];
    x[i] = keep + h;
    double up = f();
    x[i] = keep - h;
    double down = f();
    x[i] = keep;
    double num = (up - down) / (2 * h);
    double err = std::abs(num - g[i]) / scale;
    if (err > worst) worst = err, worst_i = i;
  }
  EXPECT_LT(worst, tol) << what << ": worst relative error at element " << worst_i << " (analytic "
                        << g[worst_i] << ")";
}

}  // namespace

TEST(GradOps, LinearBackwardMatchesFiniteDifferences) {
  const int n = 4, in = 5, out = 3;
  Vec x = random_vec(n * in, 1), w = random_vec(out * in, 2), b = random_vec(out, 3);
  Vec r = random_vec(n * out, 4), y(n * out);
  auto f = [&] {
    ops::linear_fwd(x.data(), n, in, w.data(), b.data(), out, y.data());
    return dot(y, r);
  };
  Vec dx(n * in, 7.0), dw(out * in, 0), db(out, 0);
  ops::linear_bwd(x.data(), n, in, w.data(), out, r.data(), dx.data(), false, dw.data(), db.data());
  expect_gradient("linear dx", x, dx, f);
  expect_gradient("linear dW", w, dw, f);
  expect_gradient("linear db", b, db, f);
  // accumulate = true adds to what is there.
  Vec acc(n * in, 1.0);
  ops::linear_bwd<double>(x.data(), n, in, w.data(), out, r.data(), acc.data(), true, nullptr,
                          nullptr);
  for (size_t i = 0; i < acc.size(); ++i) EXPECT_NEAR(acc[i], dx[i] + 1.0, 1e-12);
}

TEST(GradOps, LayerNormBackwardMatchesFiniteDifferences) {
  const int n = 3, h = 7;
  Vec x = random_vec(n * h, 5, 2.0), g = random_vec(h, 6), b = random_vec(h, 7);
  Vec r = random_vec(n * h, 8), y(n * h), mean(n), rstd(n);
  auto f = [&] {
    ops::layernorm_fwd(x.data(), n, h, g.data(), b.data(), 1e-5, y.data(), mean.data(),
                       rstd.data());
    return dot(y, r);
  };
  f();
  Vec dx(n * h), dg(h, 0), db(h, 0);
  ops::layernorm_bwd(x.data(), n, h, g.data(), mean.data(), rstd.data(), r.data(), dx.data(),
                     dg.data(), db.data());
  expect_gradient("layernorm dx", x, dx, f);
  expect_gradient("layernorm dgain", g, dg, f);
  expect_gradient("layernorm dbias", b, db, f);
}

TEST(GradOps, GeluBackwardMatchesFiniteDifferences) {
  Vec x = random_vec(50, 9, 2.5), r = random_vec(50, 10), y(50), dx(50);
  auto f = [&] {
    ops::gelu_fwd(x.data(), x.size(), y.data());
    return dot(y, r);
  };
  f();
  EXPECT_NEAR(y[0], 0.5 * x[0] * (1 + std::erf(x[0] / std::sqrt(2.0))), 1e-15);
  ops::gelu_bwd(x.data(), r.data(), x.size(), dx.data());
  expect_gradient("gelu dx", x, dx, f);
}

TEST(GradOps, AttentionBackwardOverPackedSequencesMatchesFiniteDifferences) {
  const int heads = 2, dh = 3, h = heads * dh;
  std::vector<int32_t> offsets{0, 3, 4, 9};  // lengths 3, 1, 5
  const int n = 9;
  Vec q = random_vec(n * h, 11), k = random_vec(n * h, 12), v = random_vec(n * h, 13);
  Vec r = random_vec(n * h, 14), ctx(n * h), probs(ops::attention_probs_size(offsets, heads));
  EXPECT_EQ(probs.size(), static_cast<size_t>(heads * (9 + 1 + 25)));
  auto f = [&] {
    ops::attention_fwd(q.data(), k.data(), v.data(), offsets, heads, dh, probs.data(), ctx.data());
    return dot(ctx, r);
  };
  f();
  Vec dq(n * h), dk(n * h), dv(n * h), scratch;
  ops::attention_bwd(q.data(), k.data(), v.data(), offsets, heads, dh, probs.data(), r.data(),
                     dq.data(), dk.data(), dv.data(), scratch);
  expect_gradient("attention dq", q, dq, f);
  expect_gradient("attention dk", k, dk, f);
  expect_gradient("attention dv", v, dv, f);
}

TEST(GradOps, AttentionNeverLooksAcrossSequences) {
  const int heads = 2, dh = 3, h = heads * dh, n = 9;
  std::vector<int32_t> offsets{0, 3, 4, 9};
  Vec q = random_vec(n * h, 21), k = random_vec(n * h, 22), v = random_vec(n * h, 23);
  Vec probs(ops::attention_probs_size(offsets, heads)), ctx1(n * h), ctx2(n * h);
  ops::attention_fwd(q.data(), k.data(), v.data(), offsets, heads, dh, probs.data(), ctx1.data());
  for (int i = 4 * h; i < n * h; ++i) k[i] += 3.0, v[i] -= 2.0;  // change sequence 3 only
  ops::attention_fwd(q.data(), k.data(), v.data(), offsets, heads, dh, probs.data(), ctx2.data());
  for (int i = 0; i < 4 * h; ++i) EXPECT_EQ(ctx1[i], ctx2[i]) << i;
  // A sequence of one token attends to itself only: its context is its value.
  for (int j = 0; j < h; ++j) EXPECT_NEAR(ctx2[3 * h + j], v[3 * h + j], 1e-12);
}

TEST(GradOps, PoolingBackwardMatchesFiniteDifferences) {
  const int h = 4;
  std::vector<int32_t> offsets{0, 2, 7};
  for (bool cls : {false, true}) {
    Vec x = random_vec(7 * h, 31), r = random_vec(2 * h, 32), out(2 * h), dx(7 * h);
    auto f = [&] {
      ops::pool_fwd(x.data(), offsets, h, cls, out.data());
      return dot(out, r);
    };
    ops::pool_bwd(r.data(), offsets, h, cls, dx.data());
    expect_gradient(cls ? "cls pooling" : "mean pooling", x, dx, f);
  }
}

TEST(GradOps, WeightedCrossEntropyBackwardMatchesFiniteDifferences) {
  const int n = 5, k = 3;
  Vec z = random_vec(n * k, 41, 3.0), w{1.0, 2.5, 0.5, 1.0, 3.0}, dz(n * k);
  std::vector<int> y{0, 2, 1, 1, 0};
  auto f = [&] { return ops::cross_entropy<double>(z.data(), n, k, y.data(), w.data(), nullptr); };
  ops::cross_entropy<double>(z.data(), n, k, y.data(), w.data(), dz.data());
  expect_gradient("cross-entropy dlogits", z, dz, f);
  // Uniform logits: loss is log(k) whatever the weights.
  Vec u(n * k, 0.3);
  EXPECT_NEAR(ops::cross_entropy<double>(u.data(), n, k, y.data(), w.data(), nullptr),
              std::log(3.0), 1e-12);
}

namespace {
sf::model::Config tiny_config(const std::string& pooling) {
  sf::model::Config c;
  c.layers = 2;
  c.hidden = 8;
  c.heads = 2;
  c.intermediate = 16;
  c.max_positions = 8;
  c.vocab_size = 11;
  c.type_vocab_size = 2;
  c.layer_norm_eps = 1e-6f;
  c.pooling = pooling;
  c.num_labels = 2;
  c.max_tokens = 8;
  c.tail_tokens = 2;
  return c;
}
}  // namespace

TEST(BertGrad, WholeModelGradientMatchesFiniteDifferences) {
  for (const char* pooling : {"mean", "cls"}) {
    SCOPED_TRACE(pooling);
    auto c = tiny_config(pooling);
    BertGrad<double> net(c);
    auto pf = init_params(net.layout(), 5, 0.5);
    Vec p(pf.begin(), pf.end());
    // Perturb LayerNorm gains and biases too, so their gradients are not special.
    Rng r(6);
    for (const auto& e : net.layout().entries)
      if (e.name.find("LayerNorm") != std::string::npos)
        for (size_t i = 0; i < e.size; ++i) p[e.offset + i] += 0.3 * r.normal();
    std::vector<int32_t> tokens{2, 5, 7, 3, 2, 9, 9, 4, 6, 3, 2, 3};
    std::vector<int32_t> offsets{0, 4, 10, 12};
    std::vector<int> labels{1, 0, 1};
    Vec weights{1.5, 0.75, 1.5}, logits;
    Vec g(net.layout().total, 0.0);
    net.forward(p, tokens, offsets, logits);
    double loss = net.backward(p, labels, weights, g);
    EXPECT_GT(loss, 0);
    auto f = [&] {
      Vec l;
      net.forward(p, tokens, offsets, l);
      return net.loss(labels, weights);
    };
    EXPECT_NEAR(f(), loss, 1e-12);
    // Per tensor, so a failure names the layer.
    for (const auto& e : net.layout().entries) {
      Vec sub(p.begin() + static_cast<std::ptrdiff_t>(e.offset),
              p.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
      Vec gsub(g.begin() + static_cast<std::ptrdiff_t>(e.offset),
               g.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
      auto fe = [&] {
        std::copy(sub.begin(), sub.end(), p.begin() + static_cast<std::ptrdiff_t>(e.offset));
        return f();
      };
      expect_gradient(e.name, sub, gsub, fe, 2e-6);
      std::copy(sub.begin(), sub.end(), p.begin() + static_cast<std::ptrdiff_t>(e.offset));
    }
    // Token type 1 and unused vocabulary rows get no gradient.
    const auto& te =
        net.layout().entries[net.layout().index.at("embeddings.token_type_embeddings.weight")];
    for (int j = 0; j < c.hidden; ++j) EXPECT_EQ(g[te.offset + c.hidden + j], 0.0);
  }
}

TEST(BertGrad, Fp32ForwardMatchesTheReferenceEncoder) {
  auto m = sf::test::load_tiny_bert();
  BertGrad<float> net(m.config);
  auto p = params_from_model(m, net.layout());
  sf::model::CpuEncoder ref(m, 1);
  sf::model::Batch batch;
  Rng r(3);
  for (int len : {2, 17, 64, 5}) {
    std::vector<int32_t> ids{2};
    for (int i = 0; i < len - 2; ++i) ids.push_back(5 + static_cast<int32_t>(r.below(100)));
    ids.push_back(3);
    batch.add(ids);
  }
  std::vector<float> logits, want(batch.size() * m.config.num_labels);
  net.forward(p, batch.tokens, batch.offsets, logits);
  ref.logits(batch, want);
  ASSERT_EQ(logits.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(logits[i], want[i], 1e-4) << i;
  // Round trip through the model's tensors.
  sf::model::Model back = m;
  params_to_model(p, net.layout(), back);
  EXPECT_EQ(back.tensors.at("classifier.weight").data, m.tensors.at("classifier.weight").data);
}

TEST(BertGrad, RefusesBatchesTheModelCannotTake) {
  auto c = tiny_config("mean");
  BertGrad<float> net(c);
  auto p = init_params(net.layout(), 1);
  std::vector<float> logits;
  EXPECT_THROW(net.forward(p, {2, 11, 3}, {0, 3}, logits), std::invalid_argument);
  EXPECT_THROW(net.forward(p, {2, 3}, {0, 3}, logits), std::invalid_argument);
  EXPECT_THROW(net.forward(p, std::vector<int32_t>(9, 4), {0, 9}, logits), std::invalid_argument);
}

TEST(ParamLayout, DecayOnlyOnWeightMatricesAndEmbeddings) {
  ParamLayout l(tiny_config("mean"));
  for (const auto& e : l.entries) {
    bool expect = e.name.find("LayerNorm") == std::string::npos &&
                  e.name.substr(e.name.size() - 7) == ".weight";
    EXPECT_EQ(e.decay, expect) << e.name;
  }
  auto mask = l.decay_mask();
  EXPECT_EQ(mask.size(), l.total);
}
