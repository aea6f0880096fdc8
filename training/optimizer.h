// optimizer.h: AdamW with decoupled weight decay, the learning-rate schedule
// (linear warm-up, then linear decay to zero) and global gradient-norm
// clipping, over flat fp32 parameter buffers.
//
// Promises: AdamW::step is the update of Loshchilov & Hutter (decoupled decay:
// p -= lr * wd * p only where the decay mask is set, separate from the
// gradient step; bias-corrected moments). Deterministic.
// Failure: std::invalid_argument when buffer sizes disagree (a bug).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sf::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

class AdamW {
 public:
  AdamW(size_t n, AdamWOptions o) : o_(o), m_(n, 0.0f), v_(n, 0.0f) {}
  // decay: one flag per parameter (empty: decay everything).
  void step(std::span<float> params, std::span<const float> grads, std::span<const uint8_t> decay,
            double lr);
  int64_t steps() const { return t_; }
  // State for checkpoints.
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  void set_steps(int64_t t) { t_ = t; }
  const AdamWOptions& options() const { return o_; }

 private:
  AdamWOptions o_;
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

// lr at step (0-based) of total: linear warm-up over warmup steps to peak, then
// linear decay to 0 at total.
double schedule_lr(double peak, int64_t step, int64_t warmup, int64_t total);

// Scales grads so that their global L2 norm is at most max_norm (<= 0: no
// clipping). Returns the norm before clipping.
double clip_grad_norm(std::span<float> grads, double max_norm);

}  // namespace sf::train
