// conformance.cpp: see conformance.h.
#include "tests/conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <string>

#include "model/cpu_backend.h"
#include "model/import_hf.h"

namespace sf::test {

using sf::model::Backend;
using sf::model::Batch;
using sf::model::CpuEncoder;
using sf::model::Model;

Model load_tiny_bert() {
  sf::model::ImportOptions o;
  o.max_tokens = 64;  // the fixture has 64 positions
  o.tail_tokens = 16;
  return sf::model::import_hf(std::string(SF_TEST_DATA) + "/encoder/tiny_bert", o);
}

std::string base_model_dir() {
  std::string dir;
  if (const char* env = std::getenv("SPAMFORMER_BASE_MODEL_DIR"); env && *env) {
    dir = env;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::string(home) + "/.cache/spamformer/all-MiniLM-L6-v2";
  }
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / "config.json", ec)) {
    return "";
  }
  return dir;
}

std::vector<std::vector<int32_t>> make_conformance_sequences(const Model& m, size_t count,
                                                             int max_len, uint32_t seed) {
  const auto& c = m.config;
  const int longest = max_len > 0 ? std::min(max_len, c.max_positions) : c.max_positions;
  auto id_of = [&](const char* tok) -> int32_t {
    auto it = std::find(m.vocab.begin(), m.vocab.end(), tok);
    return it == m.vocab.end() ? -1 : static_cast<int32_t>(it - m.vocab.begin());
  };
  const int32_t cls = id_of("[CLS]"), sep = id_of("[SEP]");
  std::set<int32_t> special;
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (int32_t id = id_of(t); id >= 0) special.insert(id);
  }
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any_id(0, c.vocab_size - 1);
  std::uniform_int_distribution<int> any_len(1, longest);
  auto word = [&] {
    for (;;) {
      int32_t id = any_id(rng);
      if (!special.count(id) || special.size() >= static_cast<size_t>(c.vocab_size)) return id;
    }
  };
  std::vector<std::vector<int32_t>> seqs(count);
  for (size_t i = 0; i < count; ++i) {
    const int len = i == 0 ? 1 : i == 1 ? longest : i == 2 ? std::min(2, longest) : any_len(rng);
    auto& s = seqs[i];
    for (int k = 0; k < len; ++k) s.push_back(word());
    if (cls >= 0) s.front() = cls;
    if (sep >= 0 && len >= 2) s.back() = sep;
  }
  return seqs;
}

WorstDiff max_abs_diff(const float* a, const float* b, size_t n) {
  WorstDiff w;
  for (size_t i = 0; i < n; ++i) {
    float d = std::fabs(a[i] - b[i]);
    if (std::isnan(d)) d = std::numeric_limits<float>::infinity();  // NaN never conforms
    if (d > w.diff) w = {d, i};
  }
  return w;
}

namespace {

// "pooled differs by 3e-05 at batch size 7, sequence 12 (length 200), component 40:
// backend 0.1234, reference 0.1233"
std::string describe(const char* what, const WorstDiff& w, size_t batch_size, size_t width,
                     const std::vector<std::vector<int32_t>>& seqs, const std::vector<float>& got,
                     const std::vector<float>& ref) {
  const size_t s = w.index / width;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%s differs by %.3g at batch size %zu, sequence %zu (length %zu), component %zu: "
                "backend %.9g, reference %.9g",
                what, static_cast<double>(w.diff), batch_size, s, seqs[s].size(), w.index % width,
                static_cast<double>(got[w.index]), static_cast<double>(ref[w.index]));
  return buf;
}

}  // namespace

void expect_backend_matches_reference(Backend& b, const Model& m,
                                      const std::vector<std::vector<int32_t>>& seqs,
                                      float tol_logit, float tol_pooled) {
  ASSERT_FALSE(seqs.empty()) << "no sequences to compare";
  const size_t n = seqs.size();
  const size_t hidden = static_cast<size_t>(m.config.hidden);
  const size_t labels = static_cast<size_t>(m.config.num_labels);

  // Reference: everything in one batch.
  std::vector<float> ref_pooled(n * hidden), ref_logits(n * labels);
  {
    const CpuEncoder ref(m);
    Batch all;
    for (const auto& s : seqs) all.add(s);
    ref.pooled(all, ref_pooled);
    ref.logits(all, ref_logits);
  }

  const std::string name = b.capabilities().name;
  try {
    b.load(m);
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": load() threw: " << e.what();
    return;
  }
  for (size_t batch_size : kConformanceBatchSizes) {
    SCOPED_TRACE(name + ", batch size " + std::to_string(batch_size));
    std::vector<float> got_pooled(n * hidden, std::nanf("")), got_logits(n * labels, std::nanf(""));
    try {
      for (size_t start = 0; start < n; start += batch_size) {
        const size_t k = std::min(batch_size, n - start);
        Batch batch;
        for (size_t i = start; i < start + k; ++i) batch.add(seqs[i]);
        b.pooled(batch, std::span<float>(got_pooled).subspan(start * hidden, k * hidden));
        b.encode(batch, std::span<float>(got_logits).subspan(start * labels, k * labels));
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << " threw at batch size " << batch_size << ": " << e.what();
      continue;
    }
    const WorstDiff wp = max_abs_diff(got_pooled.data(), ref_pooled.data(), n * hidden);
    const WorstDiff wl = max_abs_diff(got_logits.data(), ref_logits.data(), n * labels);
    const std::string dp = describe("pooled", wp, batch_size, hidden, seqs, got_pooled, ref_pooled);
    const std::string dl = describe("logits", wl, batch_size, labels, seqs, got_logits, ref_logits);
    std::printf("[conformance] %s: %s\n[conformance] %s: %s\n", name.c_str(), dp.c_str(),
                name.c_str(), dl.c_str());
    EXPECT_LE(wp.diff, tol_pooled) << dp;
    EXPECT_LE(wl.diff, tol_logit) << dl;
  }
}

}  // namespace sf::test
