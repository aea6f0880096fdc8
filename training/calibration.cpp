// calibration.cpp: see calibration.h.
#include "training/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sf::train {

double softmax_nll(std::span<const float> logits, std::span<const int> labels, int num_labels,
                   double temperature) {
  const size_t k = static_cast<size_t>(num_labels);
  if (k == 0 || logits.size() != labels.size() * k)
    throw std::invalid_argument("softmax_nll: logits and labels disagree in size");
  if (labels.empty()) return 0;
  double total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* z = logits.data() + i * k;
    double mx = -INFINITY;
    for (size_t j = 0; j < k; ++j) mx = std::max(mx, z[j] / temperature);
    double s = 0;
    for (size_t j = 0; j < k; ++j) s += std::exp(z[j] / temperature - mx);
    total += mx + std::log(s) - z[labels[i]] / temperature;
  }
  return total / static_cast<double>(labels.size());
}

double fit_temperature(std::span<const float> logits, std::span<const int> labels, int num_labels,
                       double t_min, double t_max) {
  // The NLL is unimodal in log T for softmax temperature scaling on a fixed set.
  double a = std::log(t_min), b = std::log(t_max);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  auto f = [&](double lt) { return softmax_nll(logits, labels, num_labels, std::exp(lt)); };
  double fc = f(c), fd = f(d);
  for (int it = 0; it < 80 && b - a > 1e-7; ++it) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return std::exp((a + b) / 2);
}

Calibration calibration_report(const std::vector<float>& p, const std::vector<int>& label,
                               int bins) {
  if (p.size() != label.size() || bins <= 0)
    throw std::invalid_argument("calibration_report: sizes disagree");
  Calibration c;
  c.bins.resize(static_cast<size_t>(bins));
  std::vector<double> sum_p(c.bins.size(), 0), sum_y(c.bins.size(), 0);
  for (size_t b = 0; b < c.bins.size(); ++b) {
    c.bins[b].lo = static_cast<double>(b) / bins;
    c.bins[b].hi = static_cast<double>(b + 1) / bins;
  }
  for (size_t i = 0; i < p.size(); ++i) {
    int b = std::clamp(static_cast<int>(p[i] * bins), 0, bins - 1);
    auto& bin = c.bins[static_cast<size_t>(b)];
    bin.count++;
    sum_p[static_cast<size_t>(b)] += p[i];
    sum_y[static_cast<size_t>(b)] += label[i] ? 1 : 0;
  }
  double ece = 0;
  for (size_t b = 0; b < c.bins.size(); ++b) {
    auto& bin = c.bins[b];
    if (!bin.count) continue;
    bin.mean_p = sum_p[b] / static_cast<double>(bin.count);
    bin.spam_fraction = sum_y[b] / static_cast<double>(bin.count);
    ece += static_cast<double>(bin.count) / static_cast<double>(p.size()) *
           std::abs(bin.mean_p - bin.spam_fraction);
  }
  c.ece = p.empty() ? NAN : ece;
  return c;
}

std::string reliability_table(const Calibration& c) {
  std::string out = "  p(spam) bin    msgs  mean p  spam frac  gap\n";
  char line[128];
  for (const auto& b : c.bins) {
    if (!b.count) continue;
    std::snprintf(line, sizeof line, "  [%.3f,%.3f) %7zu  %6.4f  %9.4f  %+.4f\n", b.lo, b.hi,
                  b.count, b.mean_p, b.spam_fraction, b.spam_fraction - b.mean_p);
    out += line;
  }
  return out;
}

}  // namespace sf::train
