// test_training_e2e.cpp: full fine-tuning (training/finetune.h) end to end on
// a synthetic task the test writes: a sequence is class 1 when it contains the
// marker token. A tiny randomly initialised encoder must learn it to a stated
// accuracy on held-out sequences, runs must be deterministic for a seed, and a
// run stopped at a checkpoint and resumed must end bit-identical to one that
// was not interrupted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "training/bert_grad.h"
#include "training/finetune.h"
#include "training/rng.h"

using namespace sf::train;

namespace {

constexpr int32_t kCls = 2, kSep = 3, kMarker = 4;

sf::model::Model tiny_model(uint64_t seed) {
  sf::model::Model m;
  auto& c = m.config;
  c.layers = 2;
  c.hidden = 32;
  c.heads = 4;
  c.intermediate = 64;
  c.max_positions = 32;
  c.vocab_size = 40;
  c.max_tokens = 32;
  c.tail_tokens = 8;
  c.pooling = "mean";
  ParamLayout l(c);
  params_to_model(init_params(l, seed), l, m);
  return m;
}

// Random tokens 5..39 (length 4..20); class 1 (in about half) has the marker
// somewhere in the middle.
Dataset synthetic(size_t n, uint64_t seed) {
  Rng r(seed);
  Dataset d;
  for (size_t i = 0; i < n; ++i) {
    int len = 4 + static_cast<int>(r.below(17));
    std::vector<int32_t> s{kCls};
    for (int t = 0; t < len; ++t) s.push_back(5 + static_cast<int32_t>(r.below(35)));
    int label = r.uniform() < 0.5 ? 1 : 0;
    if (label) s[1 + r.below(static_cast<uint64_t>(len))] = kMarker;
    s.push_back(kSep);
    d.sequences.push_back(std::move(s));
    d.labels.push_back(label);
  }
  return d;
}

double accuracy(const std::vector<float>& logits, const Dataset& d) {
  size_t ok = 0;
  for (size_t i = 0; i < d.labels.size(); ++i)
    ok += ((logits[2 * i + 1] > logits[2 * i]) ? 1 : 0) == d.labels[i];
  return static_cast<double>(ok) / static_cast<double>(d.labels.size());
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sf_e2e_" + name + "_" + std::to_string(::getpid())))
      .string();
}

}  // namespace

TEST(Finetune, LearnsTheMarkerTaskToNinetyFivePercentOnHeldOutData) {
  auto m = tiny_model(1);
  auto train = synthetic(800, 10), val = synthetic(200, 11), test = synthetic(400, 12);
  FinetuneOptions o;
  o.epochs = 8;
  o.batch_size = 16;
  o.lr = 2e-3;
  o.warmup = 0.1;
  o.weight_decay = 0.01;
  o.patience = 8;
  auto before = predict_logits(m.config, params_from_model(m, ParamLayout(m.config)), test, 64);
  auto r = finetune(m, train, val, o);
  ASSERT_FALSE(r.history.empty());
  EXPECT_TRUE(r.finished);
  EXPECT_LT(r.history.back().train_loss, 0.5 * r.history.front().train_loss);
  EXPECT_LT(r.best_val_loss, 0.2);
  auto after = predict_logits(m.config, r.params, test, 64);
  EXPECT_LT(accuracy(before, test), 0.7);  // the untrained model cannot do it
  EXPECT_GE(accuracy(after, test), 0.95);
  EXPECT_EQ(r.val_logits, predict_logits(m.config, r.params, val, 16));
}

TEST(Finetune, DeterministicForASeedAndResumesBitIdentically) {
  auto m = tiny_model(2);
  auto train = synthetic(96, 20), val = synthetic(32, 21);
  FinetuneOptions o;
  o.epochs = 2;
  o.batch_size = 8;
  o.lr = 1e-3;
  o.checkpoint_every = 5;
  auto full = finetune(m, train, val, o);
  auto again = finetune(m, train, val, o);
  EXPECT_EQ(full.params, again.params);
  EXPECT_EQ(full.steps, 24);

  // Stop mid-epoch 1 (step 7, after a checkpoint at step 5), then resume twice.
  auto ckpt = temp_path("ckpt");
  o.checkpoint = ckpt;
  o.max_steps = 7;
  auto part = finetune(m, train, val, o);
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.steps, 7);
  o.resume = true;
  o.max_steps = 15;  // into epoch 2
  auto part2 = finetune(m, train, val, o);
  EXPECT_EQ(part2.steps, 15);
  o.max_steps = -1;
  auto rest = finetune(m, train, val, o);
  EXPECT_TRUE(rest.finished);
  EXPECT_EQ(rest.steps, 24);
  EXPECT_EQ(rest.params, full.params);
  EXPECT_EQ(rest.best_epoch, full.best_epoch);

  // A checkpoint of another run is refused.
  o.seed = 99;
  EXPECT_THROW(finetune(m, train, val, o), std::runtime_error);
  std::filesystem::remove(ckpt);
}

TEST(Finetune, RefusesEmptyOrBadlyLabelledData) {
  auto m = tiny_model(3);
  Dataset empty, bad = synthetic(4, 1);
  bad.labels[0] = 2;
  EXPECT_THROW(finetune(m, empty, empty, {}), std::invalid_argument);
  EXPECT_THROW(finetune(m, bad, empty, {}), std::invalid_argument);
}
