// metrics.h: evaluation metrics for a binary spam classifier.
//
// What it does: ROC AUC (ties counted half, as the Mann-Whitney statistic),
// error rates at a threshold, and spam recall at a bounded false-positive
// rate, from probabilities and labels (1 = spam, 0 = ham).
// Promises: pure functions, exact for the given inputs; a metric that is
// undefined for the data (AUC with only one class, a rate with no messages
// of that class) is NaN, never a made-up number.
#pragma once

#include <cstddef>
#include <vector>

namespace sf::train {

struct BinaryMetrics {
  size_t n = 0, spam = 0, ham = 0;
  double auc = 0;
  double accuracy_05 = 0;      // (p >= 0.5) == label
  double fpr_05 = 0, fnr_05 = 0;  // ham with p >= 0.5; spam with p < 0.5
  double fpr_09 = 0, fnr_09 = 0;  // the same at 0.9
  double recall_at_fpr_0001 = 0;  // best spam recall with FPR <= 0.1%
  double recall_at_fpr_001 = 0;   // best spam recall with FPR <= 1%
};

double roc_auc(const std::vector<float>& p, const std::vector<int>& label);
// Largest spam recall over thresholds t (spam if p >= t) whose ham FPR <= max_fpr.
double recall_at_fpr(const std::vector<float>& p, const std::vector<int>& label, double max_fpr);
BinaryMetrics binary_metrics(const std::vector<float>& p, const std::vector<int>& label);

}  // namespace sf::train
