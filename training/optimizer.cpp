// optimizer.cpp: see optimizer.h.
#include "training/optimizer.h"

#include <cmath>
#include <stdexcept>

namespace sf::train {

void AdamW::step(std::span<float> params, std::span<const float> grads,
                 std::span<const uint8_t> decay, double lr) {
  if (params.size() != m_.size() || grads.size() != m_.size() ||
      (!decay.empty() && decay.size() != m_.size()))
    throw std::invalid_argument("AdamW::step: buffer sizes disagree");
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
  const float b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
  const float step = static_cast<float>(lr / bc1);
  const float inv_bc2 = static_cast<float>(1.0 / bc2);
  const float eps = static_cast<float>(o_.eps);
  const float wd = static_cast<float>(lr * o_.weight_decay);
  for (size_t i = 0; i < params.size(); ++i) {
    float g = grads[i];
    m_[i] = b1 * m_[i] + (1 - b1) * g;
    v_[i] = b2 * v_[i] + (1 - b2) * g * g;
    if (decay.empty() || decay[i]) params[i] -= wd * params[i];
    params[i] -= step * m_[i] / (std::sqrt(v_[i] * inv_bc2) + eps);
  }
}

double schedule_lr(double peak, int64_t step, int64_t warmup, int64_t total) {
  if (total <= 0) return peak;
  if (warmup > 0 && step < warmup)
    return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  double left =
      static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return peak * std::max(0.0, std::min(1.0, left));
}

double clip_grad_norm(std::span<float> grads, double max_norm) {
  double ss = 0;
  for (float g : grads) ss += static_cast<double>(g) * g;
  double norm = std::sqrt(ss);
  if (max_norm > 0 && norm > max_norm) {
    float s = static_cast<float>(max_norm / (norm + 1e-12));
    for (auto& g : grads) g *= s;
  }
  return norm;
}

}  // namespace sf::train
