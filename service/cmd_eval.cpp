// cmd_eval.cpp: `spamformer eval --manifest M --root DIR`: scores every
// message a manifest lists and reports quality per source (AUC, error rates
// at 0.5 and 0.9, spam recall at bounded FPR) and speed.
//
// Unreadable messages are counted and listed as errors, never silently
// dropped from the totals. Mail content is never printed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "service/cli.h"
#include "service/commands.h"
#include "service/scorer.h"
#include "training/calibration.h"
#include "training/manifest.h"
#include "training/metrics.h"

namespace sf::cli {
namespace {

using Clock = std::chrono::steady_clock;

const CommandSpec& spec() {
  static const CommandSpec s{
      "eval",
      "--manifest FILE [--root DIR]",
      "Scores every message listed in a labelled manifest (TSV: path label split source) and "
      "reports, per source and overall: ROC AUC, accuracy at 0.5, false-positive and "
      "false-negative rates at 0.5 and 0.9, spam recall at FPR <= 0.1% and <= 1%, messages/s.",
      "Progress goes to standard error; the table (or JSON with --json -) to standard output.",
      {
          {"manifest", "FILE", "manifest TSV with a header row", ""},
          {"root", "DIR", "folder the manifest's paths are relative to", "the manifest's folder"},
          {"split", "NAME", "split to score: train, val, test or all", "test"},
          {"source", "NAME", "only this source (e.g. spamassassin, trec07)", "all sources"},
          {"limit", "N", "score at most N messages (the first N listed)", "all"},
          {"json", "FILE", "also write the report as JSON to FILE ('-': stdout, no table)", ""},
          {"scores", "FILE", "write path, label, probability per message as TSV", ""},
          {"model", "FILE", "model file (safetensors)",
           "config model.path, else $SPAMFORMER_MODEL"},
          {"config", "FILE", "config file (TOML)", "$SPAMFORMER_CONFIG or /etc/spamformer"},
          {"backend", "KIND", "auto, cpu or cuda", "auto"},
          {"threads", "N", "CPU threads for the CPU backend (0: all cores)", "config"},
          {"prep-threads", "N", "threads for extraction and tokenization", "all cores"},
      }};
  return s;
}

class Progress {
 public:
  Progress(std::string what, size_t total) : what_(std::move(what)), total_(total) {}
  void update(size_t done, bool final = false) {
    auto now = Clock::now();
    if (!final && now - last_ < std::chrono::seconds(2)) return;
    last_ = now;
    double s = std::chrono::duration<double>(now - start_).count();
    double rate = s > 0 ? static_cast<double>(done) / s : 0;
    double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    std::fprintf(stderr, "eval: %s %zu/%zu (%.1f msg/s, %s %.0f s)\n", what_.c_str(), done, total_,
                 rate, final ? "took" : "ETA", final ? s : eta);
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  std::string what_;
  size_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = Clock::now();
};

bool read_file(const std::string& path, size_t cap, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.resize(cap);
  in.read(out.data(), static_cast<std::streamsize>(cap));
  if (in.bad()) return false;
  out.resize(static_cast<size_t>(in.gcount()));
  return true;
}

nlohmann::json metrics_json(const train::BinaryMetrics& m) {
  auto num = [](double v) -> nlohmann::json {
    return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
  };
  return {{"messages", m.n},
          {"spam", m.spam},
          {"ham", m.ham},
          {"auc", num(m.auc)},
          {"accuracy_at_0.5", num(m.accuracy_05)},
          {"fpr_at_0.5", num(m.fpr_05)},
          {"fnr_at_0.5", num(m.fnr_05)},
          {"fpr_at_0.9", num(m.fpr_09)},
          {"fnr_at_0.9", num(m.fnr_09)},
          {"spam_recall_at_fpr_0.1pct", num(m.recall_at_fpr_0001)},
          {"spam_recall_at_fpr_1pct", num(m.recall_at_fpr_001)}};
}

std::string fmt(double v, int prec = 4) {
  if (std::isnan(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

}  // namespace

int cmd_eval(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  auto manifest_path = a.get("manifest");
  if (!manifest_path) throw UsageError("eval needs --manifest FILE");
  std::string root = a.get_or("root", std::filesystem::path(*manifest_path).parent_path().string());
  std::string split = a.get_or("split", "test");
  std::string source = a.get_or("source", "");
  long long limit = a.get_int("limit", -1, 1, 1LL << 40);
  std::string json_path = a.get_or("json", "");
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  int prep_threads = static_cast<int>(a.get_int("prep-threads", hw, 1, 1024));

  std::vector<train::ManifestEntry> entries;
  for (auto& e : train::read_manifest(*manifest_path)) {
    if (split != "all" && e.split != split) continue;
    if (!source.empty() && e.source != source) continue;
    entries.push_back(std::move(e));
    if (limit > 0 && static_cast<long long>(entries.size()) >= limit) break;
  }
  if (entries.empty()) {
    std::cerr << "eval: no messages in " << *manifest_path << " match split '" << split << "'"
              << (source.empty() ? "" : " and source '" + source + "'") << "\n";
    return 1;
  }

  service::ScorerOptions o;
  o.config_path = a.get_or("config", "");
  o.model_path = a.get_or("model", "");
  o.backend = a.get_or("backend", "auto");
  o.threads = static_cast<int>(a.get_int("threads", -1, 0, 1024));
  auto scorer = service::open_scorer(o);
  auto caps = scorer->backend->capabilities();
  std::cerr << "eval: " << entries.size() << " messages, model " << scorer->model_path
            << ", backend " << caps.name << " (" << caps.device << ")\n";
  if (!scorer->head_trained()) std::cerr << scorer->head_warning() << "\n";

  // Phase 1: read, extract and tokenize on prep_threads threads.
  const size_t n = entries.size();
  std::vector<model::Prepared> prepared(n);
  std::vector<char> failed(n, 0);
  std::atomic<size_t> next{0}, done{0};
  size_t cap = scorer->config.limits.max_input_bytes + 1;
  Progress prep_progress("prepared", n);
  {
    std::vector<std::thread> workers;
    for (int t = 0; t < prep_threads; ++t)
      workers.emplace_back([&] {
        std::string raw;
        for (size_t i; (i = next.fetch_add(1)) < n;) {
          std::string path = (std::filesystem::path(root) / entries[i].path).string();
          if (read_file(path, cap, raw))
            prepared[i] = scorer->pipeline->prepare(raw);
          else
            failed[i] = 1;
          done.fetch_add(1);
        }
      });
    while (done.load() < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      prep_progress.update(done.load());
    }
    for (auto& w : workers) w.join();
  }
  prep_progress.update(n, true);
  double prep_s = prep_progress.seconds();

  // Phase 2: encode in chunks (each chunk is split into backend batches).
  std::vector<const model::Prepared*> ok_items;
  std::vector<size_t> ok_index;
  size_t total_tokens = 0;
  for (size_t i = 0; i < n; ++i)
    if (!failed[i]) {
      ok_items.push_back(&prepared[i]);
      ok_index.push_back(i);
      total_tokens += prepared[i].ids.size();
    }
  std::vector<float> probs(ok_items.size());
  Progress enc_progress("scored", ok_items.size());
  const size_t chunk = 256;
  for (size_t s = 0; s < ok_items.size(); s += chunk) {
    size_t e = std::min(ok_items.size(), s + chunk);
    std::vector<const model::Prepared*> part(ok_items.begin() + s, ok_items.begin() + e);
    auto p = scorer->score(part);
    std::copy(p.begin(), p.end(), probs.begin() + s);
    enc_progress.update(e);
  }
  enc_progress.update(ok_items.size(), true);
  double enc_s = enc_progress.seconds();

  // Metrics per source and overall.
  std::map<std::string, std::pair<std::vector<float>, std::vector<int>>> by_source;
  std::vector<float> all_p;
  std::vector<int> all_l;
  std::map<std::string, size_t> flag_counts;
  for (size_t k = 0; k < ok_items.size(); ++k) {
    const auto& e = entries[ok_index[k]];
    by_source[e.source].first.push_back(probs[k]);
    by_source[e.source].second.push_back(e.spam ? 1 : 0);
    all_p.push_back(probs[k]);
    all_l.push_back(e.spam ? 1 : 0);
    for (const auto& f : model::prepared_flag_names(*ok_items[k])) flag_counts[f]++;
  }
  std::vector<std::string> errors;
  for (size_t i = 0; i < n; ++i)
    if (failed[i]) errors.push_back(entries[i].path);

  nlohmann::json report;
  report["model"] = scorer->model_path;
  report["head_state"] = scorer->model.config.head_state;
  report["backend"] = caps.name;
  report["device"] = caps.device;
  report["split"] = split;
  report["messages"] = n;
  report["unreadable"] = errors.size();
  report["unreadable_paths"] = nlohmann::json(errors);
  report["mean_tokens"] =
      ok_items.empty() ? 0.0 : static_cast<double>(total_tokens) / ok_items.size();
  report["prepare_seconds"] = prep_s;
  report["prepare_threads"] = prep_threads;
  report["score_seconds"] = enc_s;
  report["prepare_messages_per_second"] = prep_s > 0 ? n / prep_s : 0.0;
  report["score_messages_per_second"] = enc_s > 0 ? ok_items.size() / enc_s : 0.0;
  report["messages_per_second"] = (prep_s + enc_s) > 0 ? n / (prep_s + enc_s) : 0.0;
  report["extraction_flags"] = flag_counts;
  std::vector<std::pair<std::string, train::BinaryMetrics>> rows;
  for (auto& [src, pl] : by_source)
    rows.emplace_back(src.empty() ? "(none)" : src, train::binary_metrics(pl.first, pl.second));
  if (by_source.size() > 1) rows.emplace_back("all", train::binary_metrics(all_p, all_l));
  for (auto& [name, m] : rows) report["sources"][name] = metrics_json(m);
  // Calibration: expected calibration error over 15 equal-width bins of p(spam).
  std::vector<std::pair<std::string, train::Calibration>> cal_rows;
  for (auto& [src, pl] : by_source)
    cal_rows.emplace_back(src.empty() ? "(none)" : src,
                          train::calibration_report(pl.first, pl.second, 15));
  if (by_source.size() > 1)
    cal_rows.emplace_back("all", train::calibration_report(all_p, all_l, 15));
  for (auto& [name, c] : cal_rows) {
    report["sources"][name]["ece_15"] =
        std::isnan(c.ece) ? nlohmann::json(nullptr) : nlohmann::json(c.ece);
    nlohmann::json bins = nlohmann::json::array();
    for (const auto& b : c.bins)
      bins.push_back({{"lo", b.lo},
                      {"hi", b.hi},
                      {"count", b.count},
                      {"mean_p", b.mean_p},
                      {"spam_fraction", b.spam_fraction}});
    report["sources"][name]["reliability"] = bins;
  }

  if (!json_path.empty()) {
    if (json_path == "-") {
      std::cout << report.dump(2) << "\n";
    } else {
      std::ofstream jf(json_path);
      jf << report.dump(2) << "\n";
      if (!jf) throw std::runtime_error("cannot write " + json_path);
    }
  }
  if (auto scores_path = a.get("scores")) {
    std::ofstream sf(*scores_path);
    sf << "path\tlabel\tprobability\n";
    for (size_t k = 0; k < ok_items.size(); ++k)
      sf << entries[ok_index[k]].path << '\t' << (entries[ok_index[k]].spam ? "spam" : "ham")
         << '\t' << probs[k] << '\n';
    if (!sf) throw std::runtime_error("cannot write " + *scores_path);
  }
  if (json_path != "-") {
    std::printf("model %s (head: %s), backend %s on %s, split %s\n", scorer->model_path.c_str(),
                scorer->model.config.head_state.c_str(), caps.name.c_str(), caps.device.c_str(),
                split.c_str());
    std::printf("%-14s %7s %6s %6s %7s %7s %7s %7s %7s %7s %9s %9s\n", "source", "msgs", "spam",
                "ham", "AUC", "acc@.5", "FPR@.5", "FNR@.5", "FPR@.9", "FNR@.9", "R@FPR.1%",
                "R@FPR1%");
    for (auto& [name, m] : rows)
      std::printf("%-14s %7zu %6zu %6zu %7s %7s %7s %7s %7s %7s %9s %9s\n", name.c_str(), m.n,
                  m.spam, m.ham, fmt(m.auc).c_str(), fmt(m.accuracy_05).c_str(),
                  fmt(m.fpr_05).c_str(), fmt(m.fnr_05).c_str(), fmt(m.fpr_09).c_str(),
                  fmt(m.fnr_09).c_str(), fmt(m.recall_at_fpr_0001).c_str(),
                  fmt(m.recall_at_fpr_001).c_str());
    std::printf("calibration: ECE (15 equal-width bins of p(spam))");
    for (auto& [name, c] : cal_rows) std::printf("  %s %s", name.c_str(), fmt(c.ece).c_str());
    std::printf("\nreliability (%s):\n%s", cal_rows.back().first.c_str(),
                train::reliability_table(cal_rows.back().second).c_str());
    std::printf(
        "speed: extraction+tokenization %.1f msg/s (%d threads), model %.1f msg/s "
        "(%.0f tokens/msg), overall %.1f msg/s\n",
        report["prepare_messages_per_second"].get<double>(), prep_threads,
        report["score_messages_per_second"].get<double>(), report["mean_tokens"].get<double>(),
        report["messages_per_second"].get<double>());
    if (!errors.empty())
      std::printf("unreadable: %zu messages (first: %s)\n", errors.size(), errors[0].c_str());
    if (!scorer->head_trained())
      std::printf("note: head is %s: these probabilities carry no information about spam\n",
                  scorer->model.config.head_state.c_str());
  }
  return errors.empty() ? 0 : 1;
}

}  // namespace sf::cli
