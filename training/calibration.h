// calibration.h: temperature scaling and how well probabilities mean what
// they say.
//
// What it does: fits the temperature T of p = softmax(logits / T) by
// minimising the negative log-likelihood on held-out data (a 1-D golden-section
// search over log T); measures the expected calibration error of p(spam) over
// equal-width bins, with the per-bin table behind it (a reliability diagram).
// Promises: pure functions of their inputs. ECE here is the binary
// "p(spam) reliability": sum over bins of (bin count / n) * |mean p - spam
// fraction|, so 0.9 meaning nine in ten is what it measures.
// Failure: std::invalid_argument for inconsistent sizes (a bug in the caller).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace sf::train {

// logits: n rows of num_labels; labels: class index per row; weights may be empty.
double softmax_nll(std::span<const float> logits, std::span<const int> labels, int num_labels,
                   double temperature);
// T in [t_min, t_max] minimising softmax_nll.
double fit_temperature(std::span<const float> logits, std::span<const int> labels, int num_labels,
                       double t_min = 0.05, double t_max = 20.0);

struct ReliabilityBin {
  double lo = 0, hi = 0;
  size_t count = 0;
  double mean_p = 0;         // mean predicted p(spam) in the bin
  double spam_fraction = 0;  // fraction of spam in the bin
};

struct Calibration {
  double ece = 0;
  std::vector<ReliabilityBin> bins;
};

Calibration calibration_report(const std::vector<float>& p, const std::vector<int>& label,
                               int bins = 15);
// The table as text (one line per non-empty bin), for the commands.
std::string reliability_table(const Calibration& c);

}  // namespace sf::train
