// test_training_head.cpp: calibration (temperature fit, ECE, reliability
// bins), the optimizer pieces (AdamW, schedule, clipping) and head-only
// training on synthetic vectors the test draws.
#include <gtest/gtest.h>

#include <cmath>

#include "training/calibration.h"
#include "training/head_train.h"
#include "training/optimizer.h"
#include "training/rng.h"

using namespace sf::train;

TEST(Calibration, TemperatureRecoversTheScaleOfOverconfidentLogits) {
  // Labels drawn from softmax(z / 2.5): the NLL-optimal temperature is near 2.5.
  Rng r(7);
  std::vector<float> logits;
  std::vector<int> labels;
  for (int i = 0; i < 20000; ++i) {
    double z = 8 * (r.uniform() - 0.5);
    double p1 = 1 / (1 + std::exp(-z / 2.5));
    logits.push_back(0);
    logits.push_back(static_cast<float>(z));
    labels.push_back(r.uniform() < p1 ? 1 : 0);
  }
  double t = fit_temperature(logits, labels, 2);
  EXPECT_NEAR(t, 2.5, 0.15);
  EXPECT_LT(softmax_nll(logits, labels, 2, t), softmax_nll(logits, labels, 2, 1.0));
  EXPECT_LE(softmax_nll(logits, labels, 2, t), softmax_nll(logits, labels, 2, t * 1.05));
  EXPECT_LE(softmax_nll(logits, labels, 2, t), softmax_nll(logits, labels, 2, t / 1.05));
}

TEST(Calibration, EceOfPerfectAndOfBiasedProbabilities) {
  Rng r(3);
  std::vector<float> p;
  std::vector<int> y, y_biased;
  for (int i = 0; i < 200000; ++i) {
    float q = static_cast<float>(r.uniform());
    p.push_back(q);
    y.push_back(r.uniform() < q ? 1 : 0);
    y_biased.push_back(r.uniform() < q * 0.8 ? 1 : 0);  // true rate is 0.8 p
  }
  auto good = calibration_report(p, y, 15);
  EXPECT_LT(good.ece, 0.01);
  auto bad = calibration_report(p, y_biased, 15);
  EXPECT_NEAR(bad.ece, 0.1, 0.01);  // E|p - 0.8p| = 0.2 * E[p] = 0.1
  ASSERT_EQ(bad.bins.size(), 15u);
  size_t total = 0;
  for (auto& b : bad.bins) total += b.count;
  EXPECT_EQ(total, p.size());
  EXPECT_NEAR(bad.bins[14].spam_fraction, 0.8 * bad.bins[14].mean_p, 0.02);
  EXPECT_NE(reliability_table(bad).find("[0.933,1.000)"), std::string::npos);
}

TEST(Calibration, ProbabilityOneFallsInTheLastBin) {
  auto c = calibration_report({0.0f, 1.0f, 1.0f}, {0, 1, 1}, 15);
  EXPECT_EQ(c.bins[0].count, 1u);
  EXPECT_EQ(c.bins[14].count, 2u);
  EXPECT_DOUBLE_EQ(c.ece, 0.0);
}

TEST(Optimizer, ScheduleWarmsUpThenDecaysToZero) {
  EXPECT_NEAR(schedule_lr(1.0, 0, 10, 110), 0.1, 1e-12);
  EXPECT_NEAR(schedule_lr(1.0, 9, 10, 110), 1.0, 1e-12);
  EXPECT_NEAR(schedule_lr(1.0, 60, 10, 110), 0.5, 1e-12);
  EXPECT_NEAR(schedule_lr(1.0, 110, 10, 110), 0.0, 1e-12);
}

TEST(Optimizer, ClippingBoundsTheGlobalNorm) {
  std::vector<float> g{3, 4};
  EXPECT_NEAR(clip_grad_norm(g, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(g[0], 0.6, 1e-5);
  EXPECT_NEAR(g[1], 0.8, 1e-5);
  std::vector<float> small{0.3f, 0.4f};
  clip_grad_norm(small, 1.0);
  EXPECT_FLOAT_EQ(small[1], 0.4f);
}

TEST(Optimizer, AdamWFirstStepAndDecoupledDecay) {
  AdamWOptions o;
  o.weight_decay = 0.1;
  AdamW opt(2, o);
  std::vector<float> p{1.0f, 1.0f}, g{0.5f, 0.5f};
  std::vector<uint8_t> decay{1, 0};
  opt.step(p, g, decay, 0.01);
  // First step: m_hat = g, v_hat = g^2, so the step is lr * sign(g); decay lr*wd*p.
  EXPECT_NEAR(p[0], 1.0 - 0.01 * 0.1 - 0.01, 1e-6);
  EXPECT_NEAR(p[1], 1.0 - 0.01, 1e-6);
  // With zero gradient, only the decay (and the moment) move the weight.
  AdamW opt2(1, o);
  std::vector<float> q{2.0f}, z{0.0f};
  opt2.step(q, z, {}, 0.1);
  EXPECT_NEAR(q[0], 2.0 - 0.1 * 0.1 * 2.0, 1e-6);
}

TEST(Rng, PermutationIsDeterministicAndAPermutation) {
  auto a = permutation(1000, 5, 1), b = permutation(1000, 5, 1), c = permutation(1000, 5, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<int> seen(1000, 0);
  for (auto i : a) seen[i]++;
  for (int s : seen) EXPECT_EQ(s, 1);
}

namespace {
// Two Gaussian classes in 16 dimensions, offset along a random direction, with an
// unstandardised scale and mean (as pooled vectors have).
void draw(size_t n, uint64_t seed, std::vector<float>& x, std::vector<int>& y, double spam_share) {
  Rng r(seed);
  for (size_t i = 0; i < n; ++i) {
    int label = r.uniform() < spam_share ? 1 : 0;
    y.push_back(label);
    for (int j = 0; j < 16; ++j) {
      double v = 0.05 * r.normal() + 0.3 + (j < 4 ? (label ? 0.075 : -0.075) : 0.0);
      x.push_back(static_cast<float>(v));
    }
  }
}
}  // namespace

TEST(HeadTrain, LearnsASeparableTaskAndIsDeterministic) {
  std::vector<float> xt, xv;
  std::vector<int> yt, yv;
  draw(3000, 1, xt, yt, 0.2);
  draw(1000, 2, xv, yv, 0.2);
  HeadTrainOptions o;
  o.max_epochs = 60;
  o.batch_size = 64;
  o.lr = 1e-2;
  auto r = train_head(xt, yt, xv, yv, 16, 2, o);
  auto r2 = train_head(xt, yt, xv, yv, 16, 2, o);
  EXPECT_EQ(r.weight, r2.weight);
  EXPECT_EQ(r.bias, r2.bias);
  // The classes differ by 3 sd along each of 4 dims (6 sd in all): Bayes accuracy > 99.8%.
  auto logits = head_logits(xv, r.weight, r.bias, 16, 2);
  size_t correct = 0;
  for (size_t i = 0; i < yv.size(); ++i)
    correct += ((logits[2 * i + 1] > logits[2 * i]) ? 1 : 0) == yv[i];
  EXPECT_GE(static_cast<double>(correct) / yv.size(), 0.98);
  EXPECT_LT(r.best_val_loss, 0.1);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  // Logits on raw vectors reproduce the validation loss reported.
  EXPECT_NEAR(softmax_nll(logits, yv, 2, 1.0), r.best_val_loss, 1e-4);
}
