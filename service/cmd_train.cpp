// cmd_train.cpp: `spamformer train`: trains a model file on a token cache
// (`spamformer prepare-data`), fits the calibration temperature on the
// validation split and writes a model file with head.state "trained" and its
// provenance (base model, command line, data, validation metrics).
//
// --freeze-encoder: the encoder stays as it is; pooled vectors are computed
// once with an inference backend (--backend) and kept in a features file, and
// only the head is trained (training/head_train.h). Without it: full
// Failure: a usage error (exit 2), or exit 1 with the reason (unreadable
// cache, a cache made for another vocabulary, no training messages).
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/backend.h"
#include "model/model.h"
#include "service/backend_select.h"
#include "service/cli.h"
#include "service/config.h"
#include "service/train_commands.h"
#include "training/bert_grad.h"
#include "training/calibration.h"
#include "training/features.h"
#include "training/finetune.h"
#include "training/head_train.h"
#include "training/metrics.h"
#include "training/token_cache.h"

namespace sf::cli {
namespace {

using Clock = std::chrono::steady_clock;

const CommandSpec& spec() {
  static const CommandSpec s{
      "train",
      "--data CACHE --out FILE [--freeze-encoder]",
      "Trains the classifier on a token cache (`spamformer prepare-data`), fits the "
      "temperature on the validation split, and writes a calibrated model file.",
      "--freeze-encoder trains only the head on pooled vectors (computed once, kept in "
      "--features).\nWithout it the whole encoder is fine-tuned on the CPU (slow for MiniLM; the "
      "GPU trainer comes later).\nOnly the --train-split is trained on; --val-split is used for "
      "early stopping and the temperature.",
      {
          {"data", "FILE", "token cache from `spamformer prepare-data`", ""},
          {"out", "FILE", "model file to write", ""},
          {"model", "FILE", "starting model file (imported base model)",
           "config model.path, else $SPAMFORMER_MODEL"},
          {"config", "FILE", "config file (TOML)", "$SPAMFORMER_CONFIG or /etc/spamformer"},
          {"freeze-encoder", "", "train the head only, on pooled vectors", ""},
          {"features", "FILE", "pooled-vector file for --freeze-encoder (reused when current)",
           "DATA.pooled"},
          {"backend", "KIND", "auto, cpu or cuda (for the pooled vectors)", "auto"},
          {"threads", "N", "CPU threads (0: all cores)", "config"},
          {"train-split", "NAME", "split to train on", "train"},
          {"val-split", "NAME", "split for early stopping and calibration", "val"},
          {"limit-train", "N", "use only the first N training messages", "all"},
          {"limit-val", "N", "use only the first N validation messages", "all"},
          {"epochs", "N", "maximum epochs", "300 head-only, 3 full"},
          {"batch-size", "N", "examples per optimizer step", "256 head-only, 16 full"},
          {"lr", "X", "peak learning rate", "3e-3 head-only, 3e-5 full"},
          {"weight-decay", "X", "AdamW decoupled weight decay", "0.01"},
          {"warmup", "X", "full: share of steps with linear warm-up", "0.06"},
          {"clip", "X", "full: gradient-norm clipping (0: off)", "1.0"},
          {"patience", "N", "epochs without a better validation loss before stopping",
           "15 head-only, 2 full"},
          {"class-weight", "KIND", "balanced or none", "balanced"},
          {"seed", "N", "random seed (shuffling, nothing else)", "1"},
          {"checkpoint", "FILE", "full: checkpoint written after every epoch", "OUT.ckpt"},
          {"resume", "", "full: continue from --checkpoint", ""},
          {"max-steps", "N", "full: stop after N optimizer steps in total", "no limit"},
      }};
  return s;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s = "spamformer train";
  for (const auto& a : argv) s += " " + a;
  return s;
}

nlohmann::json metrics_json(const train::BinaryMetrics& m, double ece) {
  auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"messages", m.n},
          {"auc", num(m.auc)},
          {"accuracy_at_0.5", num(m.accuracy_05)},
          {"fpr_at_0.5", num(m.fpr_05)},
          {"fnr_at_0.5", num(m.fnr_05)},
          {"fpr_at_0.9", num(m.fpr_09)},
          {"fnr_at_0.9", num(m.fnr_09)},
          {"spam_recall_at_fpr_0.1pct", num(m.recall_at_fpr_0001)},
          {"spam_recall_at_fpr_1pct", num(m.recall_at_fpr_001)},
          {"ece_15", num(ece)}};
}

// Temperature on val, then metrics; fills the model's calibration and provenance.
void calibrate_and_describe(model::Model& m, const std::vector<float>& val_logits,
                            const std::vector<int>& val_labels, nlohmann::json training,
                            const std::string& cmdline, const std::string& data_path,
                            const train::TokenCache& cache) {
  const int k = m.config.num_labels;
  double t = val_labels.empty() ? 1.0 : train::fit_temperature(val_logits, val_labels, k);
  double nll1 = train::softmax_nll(val_logits, val_labels, k, 1.0);
  double nllt = train::softmax_nll(val_logits, val_labels, k, t);
  m.config.temperature = static_cast<float>(t);
  m.config.head_state = "trained";
  std::vector<float> p(val_labels.size());
  std::vector<int> y(val_labels.size());
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] = model::spam_probability(
        m.config, std::span<const float>(val_logits.data() + i * static_cast<size_t>(k),
                                         static_cast<size_t>(k)));
    y[i] = val_labels[i] == m.config.spam_label ? 1 : 0;
  }
  auto bm = train::binary_metrics(p, y);
  auto cal = train::calibration_report(p, y, 15);
  std::printf("temperature %.4f (val NLL %.5f at T=1, %.5f at T)\n", t, nll1, nllt);
  std::printf(
      "val: %zu messages, AUC %.5f, acc@0.5 %.4f, FPR@0.5 %.4f, FNR@0.5 %.4f, "
      "R@FPR0.1%% %.4f, R@FPR1%% %.4f, ECE %.4f\n",
      bm.n, bm.auc, bm.accuracy_05, bm.fpr_05, bm.fnr_05, bm.recall_at_fpr_0001,
      bm.recall_at_fpr_001, cal.ece);
  std::printf("val reliability (15 bins):\n%s", train::reliability_table(cal).c_str());

  nlohmann::json data = nlohmann::json::array();
  nlohmann::json counts;
  for (size_t s = 0; s < cache.splits.size(); ++s) {
    size_t n = 0, spam = 0;
    for (const auto& msg : cache.messages)
      if (msg.split == s) ++n, spam += msg.label;
    counts[cache.splits[s]] = {{"messages", n}, {"spam", spam}};
  }
  data.push_back({{"token_cache", std::filesystem::absolute(data_path).string()},
                  {"splits", counts},
                  {"sources", cache.sources}});
  if (m.metadata.count("provenance.command"))
    m.metadata["provenance.import_command"] = m.metadata["provenance.command"];
  m.metadata["provenance.command"] = cmdline;
  m.metadata["provenance.data"] = data.dump();
  training["temperature"] = t;
  training["val_nll_t1"] = nll1;
  training["val_nll"] = nllt;
  m.metadata["provenance.training"] = training.dump();
  m.metadata["provenance.metrics"] = nlohmann::json{{"val", metrics_json(bm, cal.ece)}}.dump();
}

int run_head_only(const Args& a, const std::vector<std::string>& argv, model::Model& m,
                  const train::TokenCache& cache, const std::vector<size_t>& tr,
                  const std::vector<size_t>& va, const std::string& data_path,
                  const std::string& out_path, int threads) {
  const int hidden = m.config.hidden, k = m.config.num_labels;
  std::vector<size_t> all = tr;
  all.insert(all.end(), va.begin(), va.end());
  uint64_t key = train::encoder_fingerprint(m) ^ (train::messages_fingerprint(cache, all) * 31);
  std::string feat_path = a.get_or("features", data_path + ".pooled");
  std::vector<float> x;
  auto t0 = Clock::now();
  if (train::load_features(feat_path, key, hidden, x) && x.size() == all.size() * hidden) {
    std::cerr << "train: pooled vectors from " << feat_path << "\n";
  } else {
    auto backend = service::make_backend(a.get_or("backend", "auto"), threads);
    backend->load(m);
    auto caps = backend->capabilities();
    std::cerr << "train: computing pooled vectors of " << all.size() << " messages on " << caps.name
              << " (" << caps.device << ")\n";
    double last = -10;
    x = train::compute_pooled(*backend, cache, all, hidden, 32, [&](size_t done, size_t total) {
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (s - last < 5 && done < total) return;
      last = s;
      double rate = static_cast<double>(done) / std::max(s, 1e-9);
      std::fprintf(stderr, "train: pooled %zu/%zu (%.1f msg/s, %s %.0f s)\n", done, total, rate,
                   done < total ? "ETA" : "took",
                   done < total ? static_cast<double>(total - done) / rate : s);
    });
    train::save_features(feat_path, key, hidden, x);
    std::cerr << "train: pooled vectors saved to " << feat_path << "\n";
  }
  double pooled_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const size_t h = static_cast<size_t>(hidden);
  std::span<const float> xt(x.data(), tr.size() * h), xv(x.data() + tr.size() * h, va.size() * h);
  std::vector<int> yt, yv;
  // Class index: spam_label for spam, the other label (0 or 1) for ham.
  const int ham_label = m.config.spam_label == 0 ? 1 : 0;
  for (size_t i : tr) yt.push_back(cache.messages[i].label ? m.config.spam_label : ham_label);
  for (size_t i : va) yv.push_back(cache.messages[i].label ? m.config.spam_label : ham_label);

  train::HeadTrainOptions o;
  o.max_epochs = static_cast<int>(a.get_int("epochs", 300, 1, 100000));
  o.batch_size = static_cast<int>(a.get_int("batch-size", 256, 1, 1 << 20));
  o.lr = a.get_double("lr", 3e-3, 1e-8, 10);
  o.weight_decay = a.get_double("weight-decay", 0.01, 0, 10);
  o.patience = static_cast<int>(a.get_int("patience", 15, 1, 100000));
  o.seed = static_cast<uint64_t>(a.get_int("seed", 1, 0, 1LL << 62));
  std::string cw = a.get_or("class-weight", "balanced");
  if (cw != "balanced" && cw != "none") throw UsageError("--class-weight: balanced or none");
  o.balanced = cw == "balanced";
  auto t1 = Clock::now();
  auto r = train::train_head(xt, yt, xv, yv, hidden, k, o, [&](const train::HeadEpoch& e) {
    double s = std::chrono::duration<double>(Clock::now() - t1).count();
    double eps = static_cast<double>(tr.size()) * e.epoch / std::max(s, 1e-9);
    if (e.epoch % 10 == 0 || e.epoch == 1)
      std::fprintf(stderr,
                   "train: epoch %d/%d loss %.5f val_loss %.5f (%.0f examples/s, ETA <= %.0f s)\n",
                   e.epoch, o.max_epochs, e.train_loss, e.val_loss, eps,
                   static_cast<double>(o.max_epochs - e.epoch) * tr.size() / std::max(eps, 1e-9));
  });
  double head_s = std::chrono::duration<double>(Clock::now() - t1).count();
  std::printf("head: best epoch %d of %zu, val loss %.5f, %.1f s (pooled vectors %.1f s)\n",
              r.best_epoch, r.history.size(), r.best_val_loss, head_s, pooled_s);
  m.tensors["classifier.weight"].data = r.weight;
  m.tensors["classifier.bias"].data = r.bias;
  auto val_logits = train::head_logits(xv, r.weight, r.bias, hidden, k);
  nlohmann::json training = {{"mode", "head-only (frozen encoder)"},
                             {"train_messages", tr.size()},
                             {"val_messages", va.size()},
                             {"epochs_run", r.history.size()},
                             {"best_epoch", r.best_epoch},
                             {"lr", o.lr},
                             {"batch_size", o.batch_size},
                             {"weight_decay", o.weight_decay},
                             {"class_weight", cw},
                             {"seed", o.seed},
                             {"pooled_seconds", pooled_s},
                             {"head_seconds", head_s}};
  calibrate_and_describe(m, val_logits, yv, training, command_line(argv), data_path, cache);
  model::save_model(m, out_path);
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

int run_full(const Args& a, const std::vector<std::string>& argv, model::Model& m,
             const train::TokenCache& cache, const std::vector<size_t>& tr,
             const std::vector<size_t>& va, const std::string& data_path,
             const std::string& out_path, int threads) {
  if (threads > 0) openblas_set_num_threads(threads);
  const int ham_label = m.config.spam_label == 0 ? 1 : 0;
  train::Dataset dt, dv;
  for (size_t i : tr) {
    dt.sequences.push_back(cache.ids32(i));
    dt.labels.push_back(cache.messages[i].label ? m.config.spam_label : ham_label);
  }
  for (size_t i : va) {
    dv.sequences.push_back(cache.ids32(i));
    dv.labels.push_back(cache.messages[i].label ? m.config.spam_label : ham_label);
  }
  train::FinetuneOptions o;
  o.epochs = static_cast<int>(a.get_int("epochs", 3, 1, 10000));
  o.batch_size = static_cast<int>(a.get_int("batch-size", 16, 1, 4096));
  o.lr = a.get_double("lr", 3e-5, 1e-9, 1);
  o.warmup = a.get_double("warmup", 0.06, 0, 1);
  o.weight_decay = a.get_double("weight-decay", 0.01, 0, 10);
  o.clip = a.get_double("clip", 1.0, 0, 1e6);
  o.patience = static_cast<int>(a.get_int("patience", 2, 1, 10000));
  o.seed = static_cast<uint64_t>(a.get_int("seed", 1, 0, 1LL << 62));
  std::string cw = a.get_or("class-weight", "balanced");
  if (cw != "balanced" && cw != "none") throw UsageError("--class-weight: balanced or none");
  o.balanced = cw == "balanced";
  o.checkpoint = a.get_or("checkpoint", out_path + ".ckpt");
  o.resume = a.flag("resume");
  o.max_steps = a.get_int("max-steps", -1, 0, 1LL << 40);
  auto t0 = Clock::now();
  auto r = train::finetune(m, dt, dv, o, [](const std::string& line) {
    std::fprintf(stderr, "train: %s\n", line.c_str());
  });
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("fine-tuning: %lld steps, best epoch %d, val loss %.5f, %.1f s%s\n",
              static_cast<long long>(r.steps), r.best_epoch, r.best_val_loss, secs,
              r.finished ? "" : " (stopped at --max-steps; --resume continues)");
  train::params_to_model(r.params, train::ParamLayout(m.config), m);
  nlohmann::json training = {{"mode", "full fine-tuning (CPU fp32)"},
                             {"train_messages", tr.size()},
                             {"val_messages", va.size()},
                             {"steps", r.steps},
                             {"finished", r.finished},
                             {"best_epoch", r.best_epoch},
                             {"epochs", o.epochs},
                             {"lr", o.lr},
                             {"warmup", o.warmup},
                             {"clip", o.clip},
                             {"batch_size", o.batch_size},
                             {"weight_decay", o.weight_decay},
                             {"class_weight", cw},
                             {"seed", o.seed},
                             {"seconds", secs}};
  calibrate_and_describe(m, r.val_logits, dv.labels, training, command_line(argv), data_path,
                         cache);
  model::save_model(m, out_path);
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace

int cmd_train(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  auto data_path = a.get("data");
  auto out_path = a.get("out");
  if (!data_path) throw UsageError("train needs --data FILE (from `spamformer prepare-data`)");
  if (!out_path) throw UsageError("train needs --out FILE");
  auto cfg = service::resolve_config(a.get_or("config", ""));
  std::string model_path =
      a.get_or("model", cfg.model_path.empty() ? service::default_model_path() : cfg.model_path);
  int threads = static_cast<int>(a.get_int("threads", cfg.cpu_threads, 0, 1024));
  auto m = model::load_model(model_path);
  auto cache = train::read_token_cache(*data_path);
  cache.check_model(m);
  auto tr = cache.select(a.get_or("train-split", "train"));
  auto va = cache.select(a.get_or("val-split", "val"));
  long long lt = a.get_int("limit-train", -1, 1, 1LL << 40);
  long long lv = a.get_int("limit-val", -1, 1, 1LL << 40);
  if (lt > 0 && tr.size() > static_cast<size_t>(lt)) tr.resize(static_cast<size_t>(lt));
  if (lv > 0 && va.size() > static_cast<size_t>(lv)) va.resize(static_cast<size_t>(lv));
  if (tr.empty()) {
    std::cerr << "train: no messages of split '" << a.get_or("train-split", "train") << "' in "
              << *data_path << "\n";
    return 1;
  }
  if (va.empty())
    std::cerr << "train: warning: no validation messages: no early stopping, temperature 1\n";
  std::cerr << "train: " << tr.size() << " training and " << va.size()
            << " validation messages, base model " << model_path << "\n";
  if (a.flag("freeze-encoder"))
    return run_head_only(a, argv, m, cache, tr, va, *data_path, *out_path, threads);
  return run_full(a, argv, m, cache, tr, va, *data_path, *out_path, threads);
}

}  // namespace sf::cli
