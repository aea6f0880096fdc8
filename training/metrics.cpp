// metrics.cpp: see metrics.h.
#include "training/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace sf::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check(const std::vector<float>& p, const std::vector<int>& label) {
  if (p.size() != label.size()) throw std::invalid_argument("metrics: sizes differ");
}

std::vector<size_t> order_desc(const std::vector<float>& p) {
  std::vector<size_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  return idx;
}

}  // namespace

double roc_auc(const std::vector<float>& p, const std::vector<int>& label) {
  check(p, label);
  std::vector<size_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  // Average ranks over ties; AUC = (sum of spam ranks - S(S+1)/2) / (S*H).
  double spam_rank_sum = 0;
  size_t spam = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && p[idx[j]] == p[idx[i]]) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (label[idx[k]]) {
        spam_rank_sum += avg_rank;
        ++spam;
      }
    i = j;
  }
  size_t ham = p.size() - spam;
  if (spam == 0 || ham == 0) return kNaN;
  double s = static_cast<double>(spam), h = static_cast<double>(ham);
  return (spam_rank_sum - s * (s + 1) / 2.0) / (s * h);
}

double recall_at_fpr(const std::vector<float>& p, const std::vector<int>& label, double max_fpr) {
  check(p, label);
  size_t spam_total = static_cast<size_t>(std::count(label.begin(), label.end(), 1));
  size_t ham_total = label.size() - spam_total;
  if (spam_total == 0 || ham_total == 0) return kNaN;
  std::vector<size_t> idx = order_desc(p);
  double best = 0;
  size_t tp = 0, fp = 0;
  // Thresholds between groups of equal scores: everything up to j is called spam.
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && p[idx[j]] == p[idx[i]]) {
      if (label[idx[j]])
        ++tp;
      else
        ++fp;
      ++j;
    }
    if (static_cast<double>(fp) / static_cast<double>(ham_total) <= max_fpr)
      best = std::max(best, static_cast<double>(tp) / static_cast<double>(spam_total));
    else
      break;  // FPR only grows from here
    i = j;
  }
  return best;
}

BinaryMetrics binary_metrics(const std::vector<float>& p, const std::vector<int>& label) {
  check(p, label);
  BinaryMetrics m;
  m.n = p.size();
  size_t correct = 0, fp05 = 0, fn05 = 0, fp09 = 0, fn09 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    bool spam = label[i] != 0;
    (spam ? m.spam : m.ham)++;
    bool s05 = p[i] >= 0.5f, s09 = p[i] >= 0.9f;
    if (s05 == spam) ++correct;
    if (!spam && s05) ++fp05;
    if (spam && !s05) ++fn05;
    if (!spam && s09) ++fp09;
    if (spam && !s09) ++fn09;
  }
  auto rate = [](size_t k, size_t n) {
    return n ? static_cast<double>(k) / static_cast<double>(n) : kNaN;
  };
  m.accuracy_05 = rate(correct, m.n);
  m.fpr_05 = rate(fp05, m.ham);
  m.fnr_05 = rate(fn05, m.spam);
  m.fpr_09 = rate(fp09, m.ham);
  m.fnr_09 = rate(fn09, m.spam);
  m.auc = roc_auc(p, label);
  m.recall_at_fpr_0001 = recall_at_fpr(p, label, 0.001);
  m.recall_at_fpr_001 = recall_at_fpr(p, label, 0.01);
  return m;
}

}  // namespace sf::train
