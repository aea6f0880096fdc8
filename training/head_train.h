// head_train.h: trains the classification head alone on fixed sentence
// vectors (the encoder frozen): softmax regression with AdamW.
//
// What it does: standardises the features with the training set's mean and
// standard deviation, trains W, b with mini-batch AdamW (decoupled weight
// decay on W), class-weighted cross-entropy ("balanced": each class weighs
// n / (classes * n_class)), early stopping on the validation NLL, and folds the
// standardisation back into W, b so that logits = W x + b on raw vectors.
// Promises: deterministic for a seed; returns the parameters of the epoch with
// the lowest validation loss.
// Failure: std::invalid_argument for inconsistent sizes or an empty training
// set (a bug in the caller).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace sf::train {

struct HeadTrainOptions {
  int max_epochs = 300;
  int batch_size = 256;
  double lr = 3e-3;
  double weight_decay = 1e-2;
  bool balanced = true;  // class weighting
  int patience = 15;     // epochs without a better validation loss
  uint64_t seed = 1;
};

struct HeadEpoch {
  int epoch = 0;
  double train_loss = 0, val_loss = 0;
};

struct HeadTrainResult {
  std::vector<float> weight;  // [num_labels, hidden], on raw (unstandardised) vectors
  std::vector<float> bias;    // [num_labels]
  int best_epoch = 0;
  double best_val_loss = 0;
  std::vector<HeadEpoch> history;
};

// x: n rows of hidden floats. Progress: called after each epoch.
HeadTrainResult train_head(std::span<const float> x_train, std::span<const int> y_train,
                           std::span<const float> x_val, std::span<const int> y_val, int hidden,
                           int num_labels, const HeadTrainOptions& o,
                           const std::function<void(const HeadEpoch&)>& progress = {});

// logits = W x + b for n rows.
std::vector<float> head_logits(std::span<const float> x, std::span<const float> weight,
                               std::span<const float> bias, int hidden, int num_labels);

}  // namespace sf::train
