// cpu_encoder.cpp: the math of the fp32 CPU reference encoder (see cpu_backend.h).
//
// Layout: activations are row-major [tokens, features] over ALL tokens of a batch, so
// each linear layer is one sgemm (weights kept as PyTorch stores them, [out, in], and
// used transposed). The bias (and, where a residual follows, the residual) is written
// into the output first and sgemm accumulates onto it (beta = 1). Attention is the only
// step that looks at sequence boundaries; it runs per (sequence, head) on the worker
// group (cpu_attention.h), with per-worker scratch.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "model/cpu_attention.h"
#include "model/cpu_backend.h"
#include "model/cpu_parallel.h"
#include "model/cpu_rowops.h"

// Declared by OpenBLAS's cblas.h, but not by other CBLAS headers; a repeated
// declaration with the same signature is harmless.
extern "C" void openblas_set_num_threads(int num_threads);

namespace sf::model {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// The tensor `name` with exactly `shape`, copied; ModelError otherwise.
std::vector<float> take(const Model& m, const std::string& name, std::vector<int64_t> shape) {
  auto it = m.tensors.find(name);
  if (it == m.tensors.end()) throw ModelError("CPU encoder: model has no tensor " + name);
  const Tensor& t = it->second;
  if (t.shape != shape || t.data.size() != static_cast<size_t>(t.numel())) {
    throw ModelError("CPU encoder: tensor " + name + " has shape " + shape_str(t.shape) +
                     ", expected " + shape_str(shape));
  }
  return t.data;
}

void append(std::vector<float>& dst, const std::vector<float>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

// C[M, N] += A[M, K] * W[N, K]^T, all row-major and dense.
void gemm_add_bt(size_t m, size_t n, size_t k, const float* a, const float* w, float* c) {
  if (m == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(k), w, static_cast<int>(k), 1.0f, c,
              static_cast<int>(n));
}

constexpr size_t kRowsPerItem = 16;  // rows per work item in the element-wise steps

}  // namespace

CpuEncoder::CpuEncoder(const Model& m, int threads) : config_(m.config) {
  const Config& c = config_;
  if (c.layers < 1 || c.hidden < 1 || c.heads < 1 || c.hidden % c.heads != 0 ||
      c.intermediate < 1 || c.max_positions < 1 || c.vocab_size < 1 || c.type_vocab_size < 1 ||
      c.num_labels < 1) {
    throw ModelError("CPU encoder: inconsistent architecture (hidden " + std::to_string(c.hidden) +
                     ", heads " + std::to_string(c.heads) + ", layers " + std::to_string(c.layers) +
                     ")");
  }
  if (c.activation != "gelu") {
    throw ModelError("CPU encoder: activation \"" + c.activation +
                     "\" is not implemented (only exact \"gelu\")");
  }
  if (c.pooling != "mean" && c.pooling != "cls") {
    throw ModelError("CPU encoder: pooling \"" + c.pooling +
                     "\" is not implemented (\"mean\" or \"cls\")");
  }
  if (!(c.layer_norm_eps >= 0.0f)) throw ModelError("CPU encoder: negative layer_norm_eps");

  threads_ = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads_ < 1) threads_ = 1;
  openblas_set_num_threads(threads_);

  const int64_t h = c.hidden, in = c.intermediate;
  word_emb_ = take(m, "embeddings.word_embeddings.weight", {c.vocab_size, h});
  pos_emb_ = take(m, "embeddings.position_embeddings.weight", {c.max_positions, h});
  type0_emb_ = take(m, "embeddings.token_type_embeddings.weight", {c.type_vocab_size, h});
  type0_emb_.resize(static_cast<size_t>(h));
  emb_ln_g_ = take(m, "embeddings.LayerNorm.weight", {h});
  emb_ln_b_ = take(m, "embeddings.LayerNorm.bias", {h});
  layers_.resize(static_cast<size_t>(c.layers));
  for (int l = 0; l < c.layers; ++l) {
    Layer& y = layers_[static_cast<size_t>(l)];
    auto t = [&](const std::string& suffix, std::vector<int64_t> shape) {
      return take(m, layer_tensor(l, suffix), std::move(shape));
    };
    for (const char* p : {"query", "key", "value"}) {
      append(y.qkv_w, t(std::string("attention.self.") + p + ".weight", {h, h}));
      append(y.qkv_b, t(std::string("attention.self.") + p + ".bias", {h}));
    }
    y.attn_out_w = t("attention.output.dense.weight", {h, h});
    y.attn_out_b = t("attention.output.dense.bias", {h});
    y.ln1_g = t("attention.output.LayerNorm.weight", {h});
    y.ln1_b = t("attention.output.LayerNorm.bias", {h});
    y.ffn_in_w = t("intermediate.dense.weight", {in, h});
    y.ffn_in_b = t("intermediate.dense.bias", {in});
    y.ffn_out_w = t("output.dense.weight", {h, in});
    y.ffn_out_b = t("output.dense.bias", {h});
    y.ln2_g = t("output.LayerNorm.weight", {h});
    y.ln2_b = t("output.LayerNorm.bias", {h});
  }
  head_w_ = take(m, "classifier.weight", {c.num_labels, h});
  head_b_ = take(m, "classifier.bias", {c.num_labels});
}

void CpuEncoder::validate(const Batch& batch) const { validate_batch(batch, config_); }

void CpuEncoder::forward(const Batch& batch, std::vector<float>& x) const {
  validate(batch);
  const size_t T = batch.total_tokens();
  const size_t H = static_cast<size_t>(config_.hidden);
  const size_t I = static_cast<size_t>(config_.intermediate);
  const size_t nh = static_cast<size_t>(config_.heads);
  const size_t d = H / nh;
  const size_t nseq = batch.size();
  const float eps = config_.layer_norm_eps;
  x.assign(T * H, 0.0f);
  if (T == 0) return;

  WorkerGroup group(threads_);
  const size_t row_items = (T + kRowsPerItem - 1) / kRowsPerItem;
  // Runs f(row) for every token row on the worker group.
  auto for_rows = [&](auto&& f) {
    group.run(row_items, [&](size_t item, int) {
      const size_t end = std::min(T, (item + 1) * kRowsPerItem);
      for (size_t r = item * kRowsPerItem; r < end; ++r) f(r);
    });
  };

  // Embeddings: word + position (restarting at 0 in each sequence) + token type 0.
  std::vector<int32_t> pos(T);
  size_t max_len = 0;
  for (size_t s = 0; s < nseq; ++s) {
    const size_t len = static_cast<size_t>(batch.length(s));
    max_len = std::max(max_len, len);
    for (size_t i = 0; i < len; ++i)
      pos[static_cast<size_t>(batch.offsets[s]) + i] = static_cast<int32_t>(i);
  }
  for_rows([&](size_t r) {
    const float* w = word_emb_.data() + static_cast<size_t>(batch.tokens[r]) * H;
    const float* p = pos_emb_.data() + static_cast<size_t>(pos[r]) * H;
    float* xr = x.data() + r * H;
    for (size_t c = 0; c < H; ++c) xr[c] = w[c] + p[c] + type0_emb_[c];
    layer_norm(xr, emb_ln_g_.data(), emb_ln_b_.data(), H, eps);
  });

  std::vector<float> qkv(T * 3 * H), ctx(T * H), tmp(T * H), inter(T * I);
  const size_t scratch_per_worker = attention_scratch_floats(max_len, d);
  std::vector<float> scratch(scratch_per_worker * static_cast<size_t>(group.threads()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const size_t ld = 3 * H;

  for (const Layer& y : layers_) {
    // Q, K, V for all tokens in one sgemm: qkv = x * [Wq; Wk; Wv]^T + b.
    for_rows([&](size_t r) { std::copy(y.qkv_b.begin(), y.qkv_b.end(), qkv.begin() + r * ld); });
    gemm_add_bt(T, ld, H, x.data(), y.qkv_w.data(), qkv.data());

    // Attention per (sequence, head): ctx = softmax(Q K^T / sqrt(d)) V.
    group.run(nseq * nh, [&](size_t item, int worker) {
      const size_t s = item / nh, head = item % nh;
      const float* rows = qkv.data() + static_cast<size_t>(batch.offsets[s]) * ld + head * d;
      attention_head(rows, rows + H, rows + 2 * H, ld,
                     ctx.data() + static_cast<size_t>(batch.offsets[s]) * H + head * d, H,
                     static_cast<size_t>(batch.length(s)), d, scale,
                     scratch.data() + static_cast<size_t>(worker) * scratch_per_worker);
    });

    // x = LN(x + ctx * Wo^T + bo)
    for_rows([&](size_t r) {
      const float* xr = x.data() + r * H;
      float* t = tmp.data() + r * H;
      for (size_t c = 0; c < H; ++c) t[c] = xr[c] + y.attn_out_b[c];
    });
    gemm_add_bt(T, H, H, ctx.data(), y.attn_out_w.data(), tmp.data());
    for_rows([&](size_t r) {
      layer_norm(tmp.data() + r * H, y.ln1_g.data(), y.ln1_b.data(), H, eps);
      std::copy(y.ffn_in_b.begin(), y.ffn_in_b.end(), inter.begin() + r * I);
    });
    x.swap(tmp);  // x: the attention block's output; tmp: free

    // x = LN(x + GELU(x * Wi^T + bi) * Wo2^T + bo2)
    gemm_add_bt(T, I, H, x.data(), y.ffn_in_w.data(), inter.data());
    for_rows([&](size_t r) {
      gelu(inter.data() + r * I, I);
      const float* xr = x.data() + r * H;
      float* t = tmp.data() + r * H;
      for (size_t c = 0; c < H; ++c) t[c] = xr[c] + y.ffn_out_b[c];
    });
    gemm_add_bt(T, H, I, inter.data(), y.ffn_out_w.data(), tmp.data());
    for_rows(
        [&](size_t r) { layer_norm(tmp.data() + r * H, y.ln2_g.data(), y.ln2_b.data(), H, eps); });
    x.swap(tmp);  // x: the layer's output
  }
}

void CpuEncoder::hidden_states(std::span<const int32_t> ids, std::vector<float>& out) const {
  Batch one;
  one.add(ids);
  forward(one, out);
}

void CpuEncoder::hidden_states(const Batch& batch, std::vector<float>& out) const {
  forward(batch, out);
}

void CpuEncoder::pool_into(const Batch& batch, const std::vector<float>& hidden,
                           std::span<float> out) const {
  const size_t H = static_cast<size_t>(config_.hidden);
  const bool mean = config_.pooling == "mean";
  std::vector<double> acc(H);
  for (size_t s = 0; s < batch.size(); ++s) {
    const float* first = hidden.data() + static_cast<size_t>(batch.offsets[s]) * H;
    float* o = out.data() + s * H;
    if (!mean) {
      std::copy(first, first + H, o);
      continue;
    }
    const size_t len = static_cast<size_t>(batch.length(s));
    std::fill(acc.begin(), acc.end(), 0.0);
    for (size_t i = 0; i < len; ++i) {
      for (size_t c = 0; c < H; ++c) acc[c] += first[i * H + c];
    }
    for (size_t c = 0; c < H; ++c) o[c] = static_cast<float>(acc[c] / static_cast<double>(len));
  }
}

void CpuEncoder::pooled(const Batch& batch, std::span<float> out) const {
  const size_t need = batch.size() * static_cast<size_t>(config_.hidden);
  if (out.size() != need) {
    throw BackendError("pooled(): output has " + std::to_string(out.size()) +
                       " floats, the batch needs " + std::to_string(need));
  }
  std::vector<float> hidden;
  forward(batch, hidden);
  pool_into(batch, hidden, out);
}

void CpuEncoder::logits(const Batch& batch, std::span<float> out) const {
  const size_t H = static_cast<size_t>(config_.hidden);
  const size_t nl = static_cast<size_t>(config_.num_labels);
  if (out.size() != batch.size() * nl) {
    throw BackendError("logits(): output has " + std::to_string(out.size()) +
                       " floats, the batch needs " + std::to_string(batch.size() * nl));
  }
  std::vector<float> pooled_vecs(batch.size() * H);
  pooled(batch, pooled_vecs);
  for (size_t s = 0; s < batch.size(); ++s) {
    const float* v = pooled_vecs.data() + s * H;
    for (size_t k = 0; k < nl; ++k) {
      const float* w = head_w_.data() + k * H;
      double acc = head_b_[k];
      for (size_t c = 0; c < H; ++c) acc += static_cast<double>(v[c]) * w[c];
      out[s * nl + k] = static_cast<float>(acc);
    }
  }
}

}  // namespace sf::model
