// head_train.cpp: see head_train.h.
#include "training/head_train.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "training/calibration.h"
#include "training/optimizer.h"
#include "training/rng.h"

namespace sf::train {

std::vector<float> head_logits(std::span<const float> x, std::span<const float> weight,
                               std::span<const float> bias, int hidden, int num_labels) {
  const size_t h = static_cast<size_t>(hidden), k = static_cast<size_t>(num_labels);
  const size_t n = x.size() / h;
  std::vector<float> out(n * k);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < k; ++c) {
      double s = bias[c];
      for (size_t j = 0; j < h; ++j) s += static_cast<double>(weight[c * h + j]) * x[i * h + j];
      out[i * k + c] = static_cast<float>(s);
    }
  return out;
}

HeadTrainResult train_head(std::span<const float> x_train, std::span<const int> y_train,
                           std::span<const float> x_val, std::span<const int> y_val, int hidden,
                           int num_labels, const HeadTrainOptions& o,
                           const std::function<void(const HeadEpoch&)>& progress) {
  const size_t h = static_cast<size_t>(hidden), k = static_cast<size_t>(num_labels);
  const size_t n = y_train.size();
  if (n == 0 || x_train.size() != n * h || x_val.size() != y_val.size() * h || k < 2)
    throw std::invalid_argument("train_head: empty or inconsistent inputs");
  // Standardisation.
  std::vector<double> mean(h, 0), sd(h, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < h; ++j) mean[j] += x_train[i * h + j];
  for (auto& m : mean) m /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < h; ++j) {
      double d = x_train[i * h + j] - mean[j];
      sd[j] += d * d;
    }
  for (auto& s : sd) s = std::sqrt(s / static_cast<double>(n)) + 1e-6;
  auto standardise = [&](std::span<const float> x) {
    std::vector<float> z(x.size());
    for (size_t i = 0; i < x.size() / h; ++i)
      for (size_t j = 0; j < h; ++j)
        z[i * h + j] = static_cast<float>((x[i * h + j] - mean[j]) / sd[j]);
    return z;
  };
  std::vector<float> zt = standardise(x_train), zv = standardise(x_val);

  // Class weights.
  std::vector<double> cw(k, 1.0);
  if (o.balanced) {
    std::vector<size_t> count(k, 0);
    for (int y : y_train) count[static_cast<size_t>(y)]++;
    for (size_t c = 0; c < k; ++c)
      cw[c] = count[c] ? static_cast<double>(n) / (static_cast<double>(k * count[c])) : 0.0;
  }

  // Parameters: W [k, h] then b [k].
  std::vector<float> params(k * h + k, 0.0f), grads(params.size());
  std::vector<uint8_t> decay(params.size(), 0);
  for (size_t i = 0; i < k * h; ++i) decay[i] = 1;
  AdamWOptions ao;
  ao.weight_decay = o.weight_decay;
  AdamW opt(params.size(), ao);

  auto eval_loss = [&](const std::vector<float>& z, std::span<const int> y) {
    auto logits = head_logits(z, std::span<const float>(params.data(), k * h),
                              std::span<const float>(params.data() + k * h, k), hidden, num_labels);
    return softmax_nll(logits, y, num_labels, 1.0);
  };

  HeadTrainResult r;
  r.best_val_loss = std::numeric_limits<double>::infinity();
  std::vector<float> best = params;
  const size_t bs = static_cast<size_t>(std::max(1, o.batch_size));
  std::vector<double> p(k);
  int since_best = 0;
  for (int epoch = 1; epoch <= o.max_epochs; ++epoch) {
    auto order = permutation(n, o.seed, static_cast<uint64_t>(epoch));
    double loss_sum = 0, weight_sum = 0;
    for (size_t s = 0; s < n; s += bs) {
      size_t e = std::min(n, s + bs);
      std::fill(grads.begin(), grads.end(), 0.0f);
      double wsum = 0;
      for (size_t t = s; t < e; ++t) wsum += cw[static_cast<size_t>(y_train[order[t]])];
      if (wsum <= 0) continue;
      for (size_t t = s; t < e; ++t) {
        size_t i = order[t];
        const float* z = zt.data() + i * h;
        size_t y = static_cast<size_t>(y_train[i]);
        double mx = -INFINITY;
        for (size_t c = 0; c < k; ++c) {
          double l = params[k * h + c];
          for (size_t j = 0; j < h; ++j) l += static_cast<double>(params[c * h + j]) * z[j];
          p[c] = l;
          mx = std::max(mx, l);
        }
        double den = 0;
        for (size_t c = 0; c < k; ++c) den += (p[c] = std::exp(p[c] - mx));
        for (size_t c = 0; c < k; ++c) p[c] /= den;
        double w = cw[y] / wsum;
        loss_sum += -cw[y] * std::log(std::max(p[y], 1e-300));
        weight_sum += cw[y];
        for (size_t c = 0; c < k; ++c) {
          float g = static_cast<float>(w * (p[c] - (c == y ? 1.0 : 0.0)));
          for (size_t j = 0; j < h; ++j) grads[c * h + j] += g * z[j];
          grads[k * h + c] += g;
        }
      }
      opt.step(params, grads, decay, o.lr);
    }
    HeadEpoch he;
    he.epoch = epoch;
    he.train_loss = weight_sum > 0 ? loss_sum / weight_sum : 0;
    he.val_loss = y_val.empty() ? he.train_loss : eval_loss(zv, y_val);
    r.history.push_back(he);
    if (progress) progress(he);
    if (he.val_loss < r.best_val_loss - 1e-7) {
      r.best_val_loss = he.val_loss;
      r.best_epoch = epoch;
      best = params;
      since_best = 0;
    } else if (++since_best >= o.patience) {
      break;
    }
  }
  // Fold the standardisation in: W' = W / sd, b' = b - sum_j W'_j mean_j.
  r.weight.resize(k * h);
  r.bias.resize(k);
  for (size_t c = 0; c < k; ++c) {
    double b = best[k * h + c];
    for (size_t j = 0; j < h; ++j) {
      double w = best[c * h + j] / sd[j];
      r.weight[c * h + j] = static_cast<float>(w);
      b -= w * mean[j];
    }
    r.bias[c] = static_cast<float>(b);
  }
  return r;
}

}  // namespace sf::train
