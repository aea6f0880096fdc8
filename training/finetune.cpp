// finetune.cpp: see finetune.h.
#include "training/finetune.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "model/backend.h"
#include "training/bert_grad.h"
#include "training/calibration.h"
#include "training/metrics.h"
#include "training/optimizer.h"
#include "training/rng.h"

namespace sf::train {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kCkptMagic[8] = {'S', 'F', 'C', 'K', 'P', 'T', '0', '1'};

struct State {
  int epoch = 1;                        // epoch in progress (1-based)
  int64_t step_in_epoch = 0;            // batches of it done
  int64_t step = 0;                     // optimizer steps in total
  double loss_sum = 0, weight_sum = 0;  // running train loss of this epoch
  double best_val_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0, since_best = 0;
};

uint64_t run_key(const FinetuneOptions& o, size_t params, size_t n_train) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(o.seed);
  mix(static_cast<uint64_t>(o.batch_size));
  mix(static_cast<uint64_t>(o.epochs));
  mix(params);
  mix(n_train);
  uint64_t lr;
  std::memcpy(&lr, &o.lr, 8);
  mix(lr);
  return h;
}

template <typename V>
void put_vec(std::ofstream& out, const std::vector<V>& v) {
  uint64_t n = v.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(n * sizeof(V)));
}

template <typename V>
void get_vec(std::ifstream& in, std::vector<V>& v, size_t expect, const std::string& path) {
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  if (!in || n != expect) throw std::runtime_error(path + ": checkpoint does not fit this model");
  v.resize(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(V)));
  if (!in) throw std::runtime_error(path + ": truncated checkpoint");
}

void save_checkpoint(const std::string& path, uint64_t key, const State& s, AdamW& opt,
                     const std::vector<float>& params, const std::vector<float>& best) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kCkptMagic, 8);
    out.write(reinterpret_cast<const char*>(&key), 8);
    out.write(reinterpret_cast<const char*>(&s), sizeof s);
    int64_t t = opt.steps();
    out.write(reinterpret_cast<const char*>(&t), 8);
    put_vec(out, params);
    put_vec(out, opt.m());
    put_vec(out, opt.v());
    put_vec(out, best);
    out.close();
    if (!out) throw std::runtime_error("cannot write checkpoint " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

void load_checkpoint(const std::string& path, uint64_t key, State& s, AdamW& opt,
                     std::vector<float>& params, std::vector<float>& best) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open checkpoint " + path);
  char magic[8];
  uint64_t k = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&k), 8);
  if (!in || std::memcmp(magic, kCkptMagic, 8) != 0)
    throw std::runtime_error(path + ": not a Spamformer training checkpoint");
  if (k != key)
    throw std::runtime_error(path +
                             ": checkpoint of another run (seed, batch size, epochs, "
                             "learning rate, model or data differ)");
  in.read(reinterpret_cast<char*>(&s), sizeof s);
  int64_t t = 0;
  in.read(reinterpret_cast<char*>(&t), 8);
  opt.set_steps(t);
  size_t n = params.size();
  get_vec(in, params, n, path);
  get_vec(in, opt.m(), n, path);
  get_vec(in, opt.v(), n, path);
  get_vec(in, best, n, path);
}

void make_batch(const Dataset& d, const std::vector<size_t>& order, size_t s, size_t e,
                std::vector<int32_t>& tokens, std::vector<int32_t>& offsets,
                std::vector<int>& labels) {
  tokens.clear();
  offsets.assign(1, 0);
  labels.clear();
  for (size_t t = s; t < e; ++t) {
    const auto& seq = d.sequences[order[t]];
    tokens.insert(tokens.end(), seq.begin(), seq.end());
    offsets.push_back(static_cast<int32_t>(tokens.size()));
    labels.push_back(d.labels[order[t]]);
  }
}

}  // namespace

std::vector<float> predict_logits(const model::Config& c, const std::vector<float>& params,
                                  const Dataset& d, int batch_size) {
  BertGrad<float> net(c);
  std::vector<float> out, logits;
  std::vector<int32_t> tokens, offsets;
  std::vector<int> labels;
  std::vector<size_t> order(d.sequences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t bs = static_cast<size_t>(std::max(1, batch_size));
  for (size_t s = 0; s < order.size(); s += bs) {
    make_batch(d, order, s, std::min(order.size(), s + bs), tokens, offsets, labels);
    net.forward(params, tokens, offsets, logits);
    out.insert(out.end(), logits.begin(), logits.end());
  }
  return out;
}

FinetuneResult finetune(const model::Model& start, const Dataset& train, const Dataset& val,
                        const FinetuneOptions& o,
                        const std::function<void(const std::string&)>& progress) {
  const auto& c = start.config;
  const int k = c.num_labels;
  const size_t n = train.sequences.size();
  if (n == 0 || train.labels.size() != n || val.labels.size() != val.sequences.size())
    throw std::invalid_argument("finetune: empty or inconsistent training data");
  for (int y : train.labels)
    if (y < 0 || y >= k) throw std::invalid_argument("finetune: label outside [0, num_labels)");
  BertGrad<float> net(c);
  const auto& layout = net.layout();
  std::vector<float> params = params_from_model(start, layout), grads(layout.total, 0.0f);
  std::vector<float> best = params;
  const auto decay = layout.decay_mask();
  AdamWOptions ao;
  ao.weight_decay = o.weight_decay;
  AdamW opt(layout.total, ao);

  std::vector<double> cw(static_cast<size_t>(k), 1.0);
  if (o.balanced) {
    std::vector<size_t> count(static_cast<size_t>(k), 0);
    for (int y : train.labels) count[static_cast<size_t>(y)]++;
    for (size_t i = 0; i < cw.size(); ++i)
      cw[i] = count[i] ? static_cast<double>(n) / static_cast<double>(k * count[i]) : 0.0;
  }
  const size_t bs = static_cast<size_t>(std::max(1, o.batch_size));
  const int64_t steps_per_epoch = static_cast<int64_t>((n + bs - 1) / bs);
  const int64_t total_steps = steps_per_epoch * o.epochs;
  const int64_t warmup =
      static_cast<int64_t>(std::llround(o.warmup * static_cast<double>(total_steps)));
  const uint64_t key = run_key(o, layout.total, n);

  State st;
  if (o.resume) {
    if (o.checkpoint.empty()) throw std::invalid_argument("resume needs a checkpoint path");
    load_checkpoint(o.checkpoint, key, st, opt, params, best);
    if (progress)
      progress("resumed from " + o.checkpoint + " at epoch " + std::to_string(st.epoch) +
               ", step " + std::to_string(st.step));
  }

  FinetuneResult r;
  std::vector<int32_t> tokens, offsets;
  std::vector<int> labels;
  std::vector<float> logits, weights;
  auto run_start = Clock::now();
  int64_t steps_this_run = 0;
  char line[256];
  auto validate = [&](const std::vector<float>& p, double& auc) {
    auto vl = predict_logits(c, p, val, o.batch_size);
    double loss = softmax_nll(vl, val.labels, k, 1.0);
    std::vector<float> prob(val.labels.size());
    std::vector<int> y(val.labels.size());
    for (size_t i = 0; i < prob.size(); ++i) {
      prob[i] = model::spam_probability(
          c, std::span<const float>(vl.data() + i * k, static_cast<size_t>(k)));
      y[i] = val.labels[i] == c.spam_label ? 1 : 0;
    }
    auc = roc_auc(prob, y);
    return std::make_pair(loss, vl);
  };

  bool stop = false;
  while (st.epoch <= o.epochs && !stop) {
    auto order = permutation(n, o.seed, static_cast<uint64_t>(st.epoch));
    auto epoch_start = Clock::now();
    while (st.step_in_epoch < steps_per_epoch) {
      if (o.max_steps >= 0 && st.step >= o.max_steps) {
        stop = true;
        break;
      }
      size_t s = static_cast<size_t>(st.step_in_epoch) * bs, e = std::min(n, s + bs);
      make_batch(train, order, s, e, tokens, offsets, labels);
      weights.resize(labels.size());
      for (size_t i = 0; i < labels.size(); ++i)
        weights[i] = static_cast<float>(cw[static_cast<size_t>(labels[i])]);
      std::fill(grads.begin(), grads.end(), 0.0f);
      net.forward(params, tokens, offsets, logits);
      float loss = net.backward(params, labels, weights, grads);
      double wsum = 0;
      for (float w : weights) wsum += w;
      st.loss_sum += loss * wsum;
      st.weight_sum += wsum;
      clip_grad_norm(grads, o.clip);
      opt.step(params, grads, decay, schedule_lr(o.lr, st.step, warmup, total_steps));
      ++st.step;
      ++st.step_in_epoch;
      ++steps_this_run;
      double secs = std::chrono::duration<double>(Clock::now() - run_start).count();
      double eps =
          static_cast<double>(steps_this_run * static_cast<int64_t>(bs)) / std::max(secs, 1e-9);
      if (progress && (st.step_in_epoch % 10 == 0 || st.step_in_epoch == steps_per_epoch)) {
        int64_t left = total_steps - st.step;
        if (o.max_steps >= 0) left = std::min(left, o.max_steps - st.step);
        std::snprintf(line, sizeof line,
                      "epoch %d step %lld/%lld loss %.4f lr %.2e (%.1f examples/s, ETA %.0f s)",
                      st.epoch, static_cast<long long>(st.step_in_epoch),
                      static_cast<long long>(steps_per_epoch), st.loss_sum / st.weight_sum,
                      schedule_lr(o.lr, st.step - 1, warmup, total_steps), eps,
                      static_cast<double>(left * static_cast<int64_t>(bs)) / std::max(eps, 1e-9));
        progress(line);
      }
      if (!o.checkpoint.empty() && o.checkpoint_every > 0 && st.step % o.checkpoint_every == 0 &&
          st.step_in_epoch < steps_per_epoch)
        save_checkpoint(o.checkpoint, key, st, opt, params, best);
    }
    if (stop) break;
    // End of epoch: validate, early stopping.
    EpochReport rep;
    rep.epoch = st.epoch;
    rep.train_loss = st.weight_sum > 0 ? st.loss_sum / st.weight_sum : 0;
    rep.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    if (!val.labels.empty()) {
      rep.val_loss = validate(params, rep.val_auc).first;
      if (rep.val_loss < st.best_val_loss) {
        st.best_val_loss = rep.val_loss;
        st.best_epoch = st.epoch;
        st.since_best = 0;
        best = params;
      } else if (++st.since_best >= o.patience) {
        r.stopped_early = true;
      }
    } else {
      best = params;
      st.best_epoch = st.epoch;
    }
    r.history.push_back(rep);
    if (progress) {
      std::snprintf(line, sizeof line,
                    "epoch %d done: train loss %.5f, val loss %.5f, val AUC %.5f (%.0f s)%s",
                    rep.epoch, rep.train_loss, rep.val_loss, rep.val_auc, rep.seconds,
                    r.stopped_early ? ", stopping early" : "");
      progress(line);
    }
    ++st.epoch;
    st.step_in_epoch = 0;
    st.loss_sum = st.weight_sum = 0;
    if (!o.checkpoint.empty()) save_checkpoint(o.checkpoint, key, st, opt, params, best);
    if (r.stopped_early) break;
  }
  r.finished = !stop;
  if (stop && !o.checkpoint.empty()) save_checkpoint(o.checkpoint, key, st, opt, params, best);
  // Without any finished epoch, the current parameters are the result.
  r.params = st.best_epoch > 0 ? best : params;
  r.best_epoch = st.best_epoch;
  r.best_val_loss = st.best_val_loss;
  r.steps = st.step;
  if (!val.labels.empty()) r.val_logits = predict_logits(c, r.params, val, o.batch_size);
  return r;
}

}  // namespace sf::train
