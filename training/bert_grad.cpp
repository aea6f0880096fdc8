// bert_grad.cpp: see bert_grad.h.
#include "training/bert_grad.h"

#include <stdexcept>

#include "training/grad_ops.h"
#include "training/rng.h"

namespace sf::train {

ParamLayout::ParamLayout(const model::Config& c) {
  for (auto& [name, shape] : model::weight_names(c)) {
    Entry e;
    e.name = name;
    e.shape = shape;
    e.size = 1;
    for (auto d : shape) e.size *= static_cast<size_t>(d);
    e.offset = total;
    e.decay = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 &&
              name.find("LayerNorm") == std::string::npos;
    total += e.size;
    index[name] = entries.size();
    entries.push_back(std::move(e));
  }
}

size_t ParamLayout::offset(const std::string& name) const {
  return entries.at(index.at(name)).offset;
}

std::vector<uint8_t> ParamLayout::decay_mask() const {
  std::vector<uint8_t> m(total, 0);
  for (const auto& e : entries)
    if (e.decay)
      std::fill(m.begin() + static_cast<std::ptrdiff_t>(e.offset),
                m.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size), 1);
  return m;
}

std::vector<float> params_from_model(const model::Model& m, const ParamLayout& l) {
  std::vector<float> p(l.total);
  for (const auto& e : l.entries) {
    const auto& t = m.at(e.name);
    if (t.data.size() != e.size) throw model::ModelError("tensor " + e.name + " has wrong size");
    std::copy(t.data.begin(), t.data.end(), p.begin() + static_cast<std::ptrdiff_t>(e.offset));
  }
  return p;
}

void params_to_model(const std::vector<float>& p, const ParamLayout& l, model::Model& m) {
  for (const auto& e : l.entries) {
    auto& t = m.tensors[e.name];
    t.shape = e.shape;
    t.data.assign(p.begin() + static_cast<std::ptrdiff_t>(e.offset),
                  p.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
  }
}

std::vector<float> init_params(const ParamLayout& l, uint64_t seed, double std) {
  std::vector<float> p(l.total, 0.0f);
  Rng r(seed);
  for (const auto& e : l.entries) {
    bool ln = e.name.find("LayerNorm") != std::string::npos;
    bool weight = e.name.size() > 7 && e.name.compare(e.name.size() - 7, 7, ".weight") == 0;
    for (size_t i = 0; i < e.size; ++i)
      p[e.offset + i] =
          ln ? (weight ? 1.0f : 0.0f) : (weight ? static_cast<float>(std * r.normal()) : 0.0f);
  }
  return p;
}

template <typename T>
BertGrad<T>::BertGrad(const model::Config& c) : c_(c), layout_(c) {
  word_ = layout_.offset("embeddings.word_embeddings.weight");
  pos_ = layout_.offset("embeddings.position_embeddings.weight");
  type_ = layout_.offset("embeddings.token_type_embeddings.weight");
  emb_g_ = layout_.offset("embeddings.LayerNorm.weight");
  emb_b_ = layout_.offset("embeddings.LayerNorm.bias");
  cls_w_ = layout_.offset("classifier.weight");
  cls_b_ = layout_.offset("classifier.bias");
  for (int i = 0; i < c.layers; ++i) {
    auto o = [&](const char* s) { return layout_.offset(model::layer_tensor(i, s)); };
    lo_.push_back({o("attention.self.query.weight"), o("attention.self.query.bias"),
                   o("attention.self.key.weight"), o("attention.self.key.bias"),
                   o("attention.self.value.weight"), o("attention.self.value.bias"),
                   o("attention.output.dense.weight"), o("attention.output.dense.bias"),
                   o("attention.output.LayerNorm.weight"), o("attention.output.LayerNorm.bias"),
                   o("intermediate.dense.weight"), o("intermediate.dense.bias"),
                   o("output.dense.weight"), o("output.dense.bias"), o("output.LayerNorm.weight"),
                   o("output.LayerNorm.bias")});
  }
  acts_.resize(static_cast<size_t>(c.layers));
}

template <typename T>
void BertGrad<T>::forward(const std::vector<T>& params, const std::vector<int32_t>& tokens,
                          const std::vector<int32_t>& offsets, std::vector<T>& logits) {
  if (params.size() != layout_.total) throw std::invalid_argument("parameter buffer size");
  if (offsets.size() < 2 || offsets.front() != 0 ||
      offsets.back() != static_cast<int32_t>(tokens.size()))
    throw std::invalid_argument("batch offsets inconsistent");
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    int len = offsets[s + 1] - offsets[s];
    if (len < 1 || len > c_.max_positions)
      throw std::invalid_argument("sequence " + std::to_string(s) + " has length " +
                                  std::to_string(len));
  }
  for (int32_t id : tokens)
    if (id < 0 || id >= c_.vocab_size)
      throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary");
  tokens_ = tokens;
  offsets_ = offsets;
  const int n = static_cast<int>(tokens.size()), h = c_.hidden, inter = c_.intermediate;
  const size_t nh = static_cast<size_t>(n) * h, ni = static_cast<size_t>(n) * inter;
  const T* P = params.data();
  const T eps = static_cast<T>(c_.layer_norm_eps);

  emb_sum_.resize(nh);
  for (size_t s = 0; s + 1 < offsets.size(); ++s)
    for (int t = offsets[s]; t < offsets[s + 1]; ++t) {
      const T* w = P + word_ + static_cast<size_t>(tokens[static_cast<size_t>(t)]) * h;
      const T* p = P + pos_ + static_cast<size_t>(t - offsets[s]) * h;
      const T* ty = P + type_;
      T* e = emb_sum_.data() + static_cast<size_t>(t) * h;
      for (int j = 0; j < h; ++j) e[j] = w[j] + p[j] + ty[j];
    }
  emb_mean_.resize(static_cast<size_t>(n));
  emb_rstd_.resize(static_cast<size_t>(n));
  x0_.resize(nh);
  ops::layernorm_fwd(emb_sum_.data(), n, h, P + emb_g_, P + emb_b_, eps, x0_.data(),
                     emb_mean_.data(), emb_rstd_.data());

  const T* x = x0_.data();
  for (int l = 0; l < c_.layers; ++l) {
    auto& a = acts_[static_cast<size_t>(l)];
    const auto& o = lo_[static_cast<size_t>(l)];
    a.q.resize(nh);
    a.k.resize(nh);
    a.v.resize(nh);
    a.ctx.resize(nh);
    a.attn_sum.resize(nh);
    a.h1.resize(nh);
    a.ff1.resize(ni);
    a.gelu.resize(ni);
    a.ff_sum.resize(nh);
    a.out.resize(nh);
    a.ln1_mean.resize(static_cast<size_t>(n));
    a.ln1_rstd.resize(static_cast<size_t>(n));
    a.ln2_mean.resize(static_cast<size_t>(n));
    a.ln2_rstd.resize(static_cast<size_t>(n));
    a.probs.resize(ops::attention_probs_size(offsets, c_.heads));
    ops::linear_fwd(x, n, h, P + o.q_w, P + o.q_b, h, a.q.data());
    ops::linear_fwd(x, n, h, P + o.k_w, P + o.k_b, h, a.k.data());
    ops::linear_fwd(x, n, h, P + o.v_w, P + o.v_b, h, a.v.data());
    ops::attention_fwd(a.q.data(), a.k.data(), a.v.data(), offsets, c_.heads, c_.head_dim(),
                       a.probs.data(), a.ctx.data());
    ops::linear_fwd(a.ctx.data(), n, h, P + o.o_w, P + o.o_b, h, a.attn_sum.data());
    for (size_t i = 0; i < nh; ++i) a.attn_sum[i] += x[i];
    ops::layernorm_fwd(a.attn_sum.data(), n, h, P + o.ln1_g, P + o.ln1_b, eps, a.h1.data(),
                       a.ln1_mean.data(), a.ln1_rstd.data());
    ops::linear_fwd(a.h1.data(), n, h, P + o.i_w, P + o.i_b, inter, a.ff1.data());
    ops::gelu_fwd(a.ff1.data(), ni, a.gelu.data());
    ops::linear_fwd(a.gelu.data(), n, inter, P + o.f_w, P + o.f_b, h, a.ff_sum.data());
    for (size_t i = 0; i < nh; ++i) a.ff_sum[i] += a.h1[i];
    ops::layernorm_fwd(a.ff_sum.data(), n, h, P + o.ln2_g, P + o.ln2_b, eps, a.out.data(),
                       a.ln2_mean.data(), a.ln2_rstd.data());
    x = a.out.data();
  }
  const int b = static_cast<int>(offsets.size() - 1), k = c_.num_labels;
  pooled_.resize(static_cast<size_t>(b) * h);
  ops::pool_fwd(x, offsets, h, c_.pooling == "cls", pooled_.data());
  logits_.resize(static_cast<size_t>(b) * k);
  ops::linear_fwd(pooled_.data(), b, h, P + cls_w_, P + cls_b_, k, logits_.data());
  logits = logits_;
}

template <typename T>
T BertGrad<T>::loss(const std::vector<int>& labels, const std::vector<T>& weights) const {
  const int b = static_cast<int>(offsets_.size() - 1);
  return ops::cross_entropy(logits_.data(), b, c_.num_labels, labels.data(),
                            weights.empty() ? nullptr : weights.data(), static_cast<T*>(nullptr));
}

template <typename T>
T BertGrad<T>::backward(const std::vector<T>& params, const std::vector<int>& labels,
                        const std::vector<T>& weights, std::vector<T>& grads) {
  const int b = static_cast<int>(offsets_.size() - 1), k = c_.num_labels;
  if (labels.size() != static_cast<size_t>(b) ||
      (!weights.empty() && weights.size() != labels.size()))
    throw std::invalid_argument("labels/weights do not match the batch");
  for (int y : labels)
    if (y < 0 || y >= k) throw std::invalid_argument("label outside [0, num_labels)");
  if (grads.size() != layout_.total) grads.assign(layout_.total, T(0));
  const int n = static_cast<int>(tokens_.size()), h = c_.hidden, inter = c_.intermediate;
  const size_t nh = static_cast<size_t>(n) * h, ni = static_cast<size_t>(n) * inter;
  const T* P = params.data();
  T* G = grads.data();

  std::vector<T> dlogits(static_cast<size_t>(b) * k), dpooled(static_cast<size_t>(b) * h);
  T loss = ops::cross_entropy(logits_.data(), b, k, labels.data(),
                              weights.empty() ? nullptr : weights.data(), dlogits.data());
  ops::linear_bwd(pooled_.data(), b, h, P + cls_w_, k, dlogits.data(), dpooled.data(), false,
                  G + cls_w_, G + cls_b_);
  std::vector<T> dx(nh), dtmp(nh), dq(nh), dk(nh), dv(nh), dctx(nh), dinter(ni);
  ops::pool_bwd(dpooled.data(), offsets_, h, c_.pooling == "cls", dx.data());

  for (int l = c_.layers - 1; l >= 0; --l) {
    auto& a = acts_[static_cast<size_t>(l)];
    const auto& o = lo_[static_cast<size_t>(l)];
    const T* x_in = l == 0 ? x0_.data() : acts_[static_cast<size_t>(l - 1)].out.data();
    // out = LN2(ff_sum): dtmp = d ff_sum.
    ops::layernorm_bwd(a.ff_sum.data(), n, h, P + o.ln2_g, a.ln2_mean.data(), a.ln2_rstd.data(),
                       dx.data(), dtmp.data(), G + o.ln2_g, G + o.ln2_b);
    // ff_sum = W_f gelu + b_f + h1.
    ops::linear_bwd(a.gelu.data(), n, inter, P + o.f_w, h, dtmp.data(), dinter.data(), false,
                    G + o.f_w, G + o.f_b);
    ops::gelu_bwd(a.ff1.data(), dinter.data(), ni, dinter.data());
    // dh1 = d ff_sum (residual) + W_i^T d ff1: accumulate into dtmp.
    ops::linear_bwd(a.h1.data(), n, h, P + o.i_w, inter, dinter.data(), dtmp.data(), true,
                    G + o.i_w, G + o.i_b);
    // h1 = LN1(attn_sum): dx = d attn_sum.
    ops::layernorm_bwd(a.attn_sum.data(), n, h, P + o.ln1_g, a.ln1_mean.data(), a.ln1_rstd.data(),
                       dtmp.data(), dx.data(), G + o.ln1_g, G + o.ln1_b);
    // attn_sum = W_o ctx + b_o + x_in.
    ops::linear_bwd(a.ctx.data(), n, h, P + o.o_w, h, dx.data(), dctx.data(), false, G + o.o_w,
                    G + o.o_b);
    ops::attention_bwd(a.q.data(), a.k.data(), a.v.data(), offsets_, c_.heads, c_.head_dim(),
                       a.probs.data(), dctx.data(), dq.data(), dk.data(), dv.data(), scratch_);
    // d x_in = d attn_sum (residual, already in dx) + the three projections.
    ops::linear_bwd(x_in, n, h, P + o.q_w, h, dq.data(), dx.data(), true, G + o.q_w, G + o.q_b);
    ops::linear_bwd(x_in, n, h, P + o.k_w, h, dk.data(), dx.data(), true, G + o.k_w, G + o.k_b);
    ops::linear_bwd(x_in, n, h, P + o.v_w, h, dv.data(), dx.data(), true, G + o.v_w, G + o.v_b);
  }
  // x0 = LN(emb_sum); emb_sum = word[id] + pos[t] + type[0].
  ops::layernorm_bwd(emb_sum_.data(), n, h, P + emb_g_, emb_mean_.data(), emb_rstd_.data(),
                     dx.data(), dtmp.data(), G + emb_g_, G + emb_b_);
  for (size_t s = 0; s + 1 < offsets_.size(); ++s)
    for (int t = offsets_[s]; t < offsets_[s + 1]; ++t) {
      const T* d = dtmp.data() + static_cast<size_t>(t) * h;
      T* gw = G + word_ + static_cast<size_t>(tokens_[static_cast<size_t>(t)]) * h;
      T* gp = G + pos_ + static_cast<size_t>(t - offsets_[s]) * h;
      T* gt = G + type_;
      for (int j = 0; j < h; ++j) {
        gw[j] += d[j];
        gp[j] += d[j];
        gt[j] += d[j];
      }
    }
  return loss;
}

template class BertGrad<float>;
template class BertGrad<double>;

}  // namespace sf::train
