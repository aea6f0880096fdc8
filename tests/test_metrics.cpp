// Metrics and manifest reading (training/metrics.h, training/manifest.h).
#include <gtest/gtest.h>

#include <cmath>

#include "training/manifest.h"
#include "training/metrics.h"

using sf::train::binary_metrics;
using sf::train::recall_at_fpr;
using sf::train::roc_auc;

TEST(Metrics, AucPerfectSeparationIsOne) {
  EXPECT_DOUBLE_EQ(roc_auc({0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
}

TEST(Metrics, AucReversedIsZero) {
  EXPECT_DOUBLE_EQ(roc_auc({0.9f, 0.8f, 0.2f, 0.1f}, {0, 0, 1, 1}), 0.0);
}

TEST(Metrics, AucCountsTiesAsHalf) {
  // All scores equal: every spam/ham pair is a tie -> 0.5.
  EXPECT_DOUBLE_EQ(roc_auc({0.5f, 0.5f, 0.5f}, {0, 1, 1}), 0.5);
  // 6 spam/ham pairs: 3 right, 1 tied, 2 wrong -> 3.5 / 6.
  EXPECT_DOUBLE_EQ(roc_auc({0.1f, 0.6f, 0.6f, 0.9f, 0.05f}, {0, 0, 1, 1, 1}), (3 + 0.5) / 6.0);
}

TEST(Metrics, AucUndefinedWithOneClass) {
  EXPECT_TRUE(std::isnan(roc_auc({0.1f, 0.9f}, {1, 1})));
}

TEST(Metrics, RecallAtFprRespectsTheBound) {
  // 100 ham at 0.0..0.99, one ham high at 0.995; spam at 0.999 and 0.5.
  std::vector<float> p;
  std::vector<int> l;
  for (int i = 0; i < 100; ++i) {
    p.push_back(static_cast<float>(i) / 100.0f);
    l.push_back(0);
  }
  p.push_back(0.995f);
  l.push_back(0);
  p.push_back(0.999f);
  l.push_back(1);
  p.push_back(0.5f);
  l.push_back(1);
  // FPR <= 0.1% of 101 ham allows no false positive: only the 0.999 spam.
  EXPECT_DOUBLE_EQ(recall_at_fpr(p, l, 0.001), 0.5);
  // FPR <= 1% allows one false positive (1/101 < 1%): still only 0.999, since
  // reaching 0.5 needs 50 ham above it.
  EXPECT_DOUBLE_EQ(recall_at_fpr(p, l, 0.01), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_fpr(p, l, 0.6), 1.0);  // 51 of 101 ham at or above 0.5
}

TEST(Metrics, RatesAtThresholdsIncludeTheLowerBound) {
  // p exactly 0.5 counts as spam at 0.5; exactly 0.9 counts as spam at 0.9.
  auto m = binary_metrics({0.5f, 0.9f, 0.49f, 0.89f}, {0, 1, 1, 0});
  EXPECT_EQ(m.n, 4u);
  EXPECT_EQ(m.spam, 2u);
  EXPECT_DOUBLE_EQ(m.fpr_05, 1.0);   // both ham: 0.5 (spam), 0.89 (spam) -> 2/2
  EXPECT_DOUBLE_EQ(m.fnr_05, 0.5);   // spam 0.49 missed
  EXPECT_DOUBLE_EQ(m.fpr_09, 0.0);
  EXPECT_DOUBLE_EQ(m.fnr_09, 0.5);   // 0.9 caught, 0.49 missed
  EXPECT_DOUBLE_EQ(m.accuracy_05, 0.25);
}

TEST(Manifest, ReadsColumnsByHeaderName) {
  auto e = sf::train::parse_manifest(
      "source\tpath\tlabel\tsplit\nsa\ta/1\tspam\ttest\ntrec\tb/2\tham\ttrain\n", "m.tsv");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].path, "a/1");
  EXPECT_TRUE(e[0].spam);
  EXPECT_EQ(e[0].source, "sa");
  EXPECT_FALSE(e[1].spam);
  EXPECT_EQ(e[1].split, "train");
}

TEST(Manifest, RefusesUnknownLabelWithLineNumber) {
  try {
    sf::train::parse_manifest("path\tlabel\nx\tspam\ny\tmaybe\n", "m.tsv");
    FAIL() << "accepted a bad label";
  } catch (const sf::train::ManifestError& e) {
    EXPECT_NE(std::string(e.what()).find("m.tsv:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("maybe"), std::string::npos) << e.what();
  }
}

TEST(Manifest, RefusesMissingColumns) {
  EXPECT_THROW(sf::train::parse_manifest("file\tclass\nx\tspam\n", "m"), sf::train::ManifestError);
  EXPECT_THROW(sf::train::parse_manifest("", "m"), sf::train::ManifestError);
}
