// finetune.h: full fine-tuning of encoder + head on the CPU (fp32, OpenBLAS).
//
// What it does: mini-batches of packed sequences (order: a permutation per
// epoch drawn from the seed), forward and backward through BertGrad<float>,
// global gradient-norm clipping, AdamW with decoupled weight decay (not on
// biases and LayerNorm), linear warm-up then linear decay, class-weighted
// cross-entropy ("balanced"), validation loss and AUC after every epoch,
// early stopping on validation loss (the best epoch's parameters are kept),
// and checkpoints (parameters, optimizer moments, position in the epoch,
// best-so-far) that `resume` continues from exactly.
// Promises: the same seed, data and thread count give bit-identical
// parameters, also across a checkpoint and resume.
// Failure: std::invalid_argument for empty data or labels outside
// [0, num_labels); std::runtime_error for an unreadable checkpoint or one
// written for another model or run (named in the message).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"

namespace sf::train {

struct Dataset {
  std::vector<std::vector<int32_t>> sequences;  // each with [CLS] ... [SEP]
  std::vector<int> labels;                      // class index (num_labels classes)
};

struct FinetuneOptions {
  int epochs = 3;
  int batch_size = 16;
  double lr = 3e-5;
  double warmup = 0.06;  // share of all steps
  double weight_decay = 0.01;
  double clip = 1.0;     // <= 0: off
  bool balanced = true;  // class weighting
  int patience = 2;      // epochs without a better validation loss
  uint64_t seed = 1;
  std::string checkpoint;          // empty: none
  int64_t checkpoint_every = 200;  // steps (and at every epoch end)
  bool resume = false;
  int64_t max_steps = -1;  // stop after this many steps in total (the schedule is unchanged)
};

struct EpochReport {
  int epoch = 0;
  double train_loss = 0, val_loss = 0, val_auc = 0, seconds = 0;
};

struct FinetuneResult {
  std::vector<float> params;      // the best epoch's (or the last, without validation)
  std::vector<float> val_logits;  // of those parameters, val order
  int best_epoch = 0;
  double best_val_loss = 0;
  int64_t steps = 0;
  bool stopped_early = false, finished = false;  // finished: all epochs or early stop
  std::vector<EpochReport> history;
};

// Progress callback: a line of text (loss, examples/s, ETA; epoch reports).
FinetuneResult finetune(const model::Model& start, const Dataset& train, const Dataset& val,
                        const FinetuneOptions& o,
                        const std::function<void(const std::string&)>& progress = {});

// Logits of a parameter buffer over a dataset, in batches.
std::vector<float> predict_logits(const model::Config& c, const std::vector<float>& params,
                                  const Dataset& d, int batch_size);

}  // namespace sf::train
