// grad_ops.h: the operations of a BERT encoder with their backward passes,
// for training: linear, LayerNorm, exact (erf) GELU, attention over packed
// variable-length sequences, pooling, and softmax cross-entropy.
//
// What it does: each op has a forward that saves what its backward needs and a
// backward that ACCUMULATES parameter gradients (+=) and WRITES (or, where
// stated, accumulates) the input gradient. Templated on the scalar type: fp32
// for training, fp64 for the finite-difference tests. Matrix products go to
// BLAS (sgemm/dgemm).
// Layout: activations are [tokens, features], row-major; sequences are packed
// end to end (offsets[i]..offsets[i+1] are the tokens of sequence i) and each
// attends only to its own tokens, which is the attention mask.
// Promises: pure functions of their inputs (no hidden state), deterministic.
// Failure: none checked here; the callers (bert_grad.cpp) validate shapes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sf::train::ops {

// C = alpha * op(A) op(B) + beta * C, row-major (cblas).
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);
void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc);

// y[n, out] = x[n, in] W^T + b, W as [out, in].
template <typename T>
void linear_fwd(const T* x, int n, int in, const T* w, const T* b, int out, T* y) {
  gemm(false, true, n, out, in, T(1), x, in, w, in, T(0), y, out);
  if (b)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < out; ++j) y[static_cast<size_t>(i) * out + j] += b[j];
}

// dx (= or += when accumulate) dy W; dW += dy^T x; db += column sums of dy.
template <typename T>
void linear_bwd(const T* x, int n, int in, const T* w, int out, const T* dy, T* dx, bool accumulate,
                T* dw, T* db) {
  if (dx) gemm(false, false, n, in, out, T(1), dy, out, w, in, accumulate ? T(1) : T(0), dx, in);
  if (dw) gemm(true, false, out, in, n, T(1), dy, out, x, in, T(1), dw, in);
  if (db)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < out; ++j) db[j] += dy[static_cast<size_t>(i) * out + j];
}

// y = (x - mean) * rstd * g + b per row; saves mean and rstd.
template <typename T>
void layernorm_fwd(const T* x, int n, int h, const T* g, const T* b, T eps, T* y, T* mean,
                   T* rstd) {
  for (int i = 0; i < n; ++i) {
    const T* xi = x + static_cast<size_t>(i) * h;
    T* yi = y + static_cast<size_t>(i) * h;
    T mu = 0;
    for (int j = 0; j < h; ++j) mu += xi[j];
    mu /= T(h);
    T var = 0;
    for (int j = 0; j < h; ++j) var += (xi[j] - mu) * (xi[j] - mu);
    var /= T(h);
    T rs = T(1) / std::sqrt(var + eps);
    for (int j = 0; j < h; ++j) yi[j] = (xi[j] - mu) * rs * g[j] + b[j];
    mean[i] = mu;
    rstd[i] = rs;
  }
}

// dx = (written); dg, db +=.
template <typename T>
void layernorm_bwd(const T* x, int n, int h, const T* g, const T* mean, const T* rstd, const T* dy,
                   T* dx, T* dg, T* db) {
  for (int i = 0; i < n; ++i) {
    const T* xi = x + static_cast<size_t>(i) * h;
    const T* dyi = dy + static_cast<size_t>(i) * h;
    T* dxi = dx + static_cast<size_t>(i) * h;
    T sum_d = 0, sum_dx = 0;
    for (int j = 0; j < h; ++j) {
      T xhat = (xi[j] - mean[i]) * rstd[i];
      T d = dyi[j] * g[j];
      dg[j] += dyi[j] * xhat;
      db[j] += dyi[j];
      sum_d += d;
      sum_dx += d * xhat;
    }
    sum_d /= T(h);
    sum_dx /= T(h);
    for (int j = 0; j < h; ++j) {
      T xhat = (xi[j] - mean[i]) * rstd[i];
      dxi[j] = rstd[i] * (dyi[j] * g[j] - sum_d - xhat * sum_dx);
    }
  }
}

template <typename T>
void gelu_fwd(const T* x, size_t n, T* y) {
  for (size_t i = 0; i < n; ++i)
    y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * T(0.70710678118654752440)));
}

// dx = dy * gelu'(x) (written).
template <typename T>
void gelu_bwd(const T* x, const T* dy, size_t n, T* dx) {
  for (size_t i = 0; i < n; ++i) {
    T cdf = T(0.5) * (T(1) + std::erf(x[i] * T(0.70710678118654752440)));
    T pdf = std::exp(T(-0.5) * x[i] * x[i]) * T(0.39894228040143267794);
    dx[i] = dy[i] * (cdf + x[i] * pdf);
  }
}

// Number of attention probabilities saved for these sequences: heads * sum L^2.
inline size_t attention_probs_size(const std::vector<int32_t>& offsets, int heads) {
  size_t s = 0;
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    size_t l = static_cast<size_t>(offsets[i + 1] - offsets[i]);
    s += l * l;
  }
  return s * static_cast<size_t>(heads);
}

// q, k, v, ctx: [n, heads * dh]. probs: attention_probs_size entries.
template <typename T>
void attention_fwd(const T* q, const T* k, const T* v, const std::vector<int32_t>& offsets,
                   int heads, int dh, T* probs, T* ctx) {
  const int h = heads * dh;
  const T scale = T(1) / std::sqrt(T(dh));
  size_t p_off = 0;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int start = offsets[s], len = offsets[s + 1] - offsets[s];
    const size_t row0 = static_cast<size_t>(start) * h;
    for (int hd = 0; hd < heads; ++hd) {
      T* p = probs + p_off;
      p_off += static_cast<size_t>(len) * len;
      gemm(false, true, len, len, dh, scale, q + row0 + hd * dh, h, k + row0 + hd * dh, h, T(0), p,
           len);
      for (int i = 0; i < len; ++i) {
        T* r = p + static_cast<size_t>(i) * len;
        T mx = r[0];
        for (int j = 1; j < len; ++j) mx = std::max(mx, r[j]);
        T sum = 0;
        for (int j = 0; j < len; ++j) sum += (r[j] = std::exp(r[j] - mx));
        for (int j = 0; j < len; ++j) r[j] /= sum;
      }
      gemm(false, false, len, dh, len, T(1), p, len, v + row0 + hd * dh, h, T(0),
           ctx + row0 + hd * dh, h);
    }
  }
}

// dq, dk, dv written. scratch: at least max L^2 entries.
template <typename T>
void attention_bwd(const T* q, const T* k, const T* v, const std::vector<int32_t>& offsets,
                   int heads, int dh, const T* probs, const T* dctx, T* dq, T* dk, T* dv,
                   std::vector<T>& scratch) {
  const int h = heads * dh;
  const T scale = T(1) / std::sqrt(T(dh));
  size_t p_off = 0;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int start = offsets[s], len = offsets[s + 1] - offsets[s];
    const size_t row0 = static_cast<size_t>(start) * h;
    if (scratch.size() < static_cast<size_t>(len) * len)
      scratch.resize(static_cast<size_t>(len) * len);
    T* ds = scratch.data();
    for (int hd = 0; hd < heads; ++hd) {
      const T* p = probs + p_off;
      p_off += static_cast<size_t>(len) * len;
      const size_t c0 = row0 + static_cast<size_t>(hd) * dh;
      // dP = dctx V^T; dV = P^T dctx.
      gemm(false, true, len, len, dh, T(1), dctx + c0, h, v + c0, h, T(0), ds, len);
      gemm(true, false, len, dh, len, T(1), p, len, dctx + c0, h, T(0), dv + c0, h);
      // dS = P * (dP - rowsum(dP * P)).
      for (int i = 0; i < len; ++i) {
        T* r = ds + static_cast<size_t>(i) * len;
        const T* pr = p + static_cast<size_t>(i) * len;
        T dot = 0;
        for (int j = 0; j < len; ++j) dot += r[j] * pr[j];
        for (int j = 0; j < len; ++j) r[j] = pr[j] * (r[j] - dot);
      }
      gemm(false, false, len, dh, len, scale, ds, len, k + c0, h, T(0), dq + c0, h);
      gemm(true, false, len, dh, len, scale, ds, len, q + c0, h, T(0), dk + c0, h);
    }
  }
}

// Pooling per sequence: mean over its tokens or its first ([CLS]) token.
template <typename T>
void pool_fwd(const T* x, const std::vector<int32_t>& offsets, int h, bool cls, T* out) {
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    T* o = out + s * h;
    const int start = offsets[s], len = offsets[s + 1] - offsets[s];
    if (cls) {
      std::copy(x + static_cast<size_t>(start) * h, x + static_cast<size_t>(start + 1) * h, o);
      continue;
    }
    std::fill(o, o + h, T(0));
    for (int t = start; t < start + len; ++t)
      for (int j = 0; j < h; ++j) o[j] += x[static_cast<size_t>(t) * h + j];
    for (int j = 0; j < h; ++j) o[j] /= T(len);
  }
}

// dx written (zero where pooling does not look).
template <typename T>
void pool_bwd(const T* dpooled, const std::vector<int32_t>& offsets, int h, bool cls, T* dx) {
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int start = offsets[s], len = offsets[s + 1] - offsets[s];
    for (int t = start; t < start + len; ++t)
      for (int j = 0; j < h; ++j)
        dx[static_cast<size_t>(t) * h + j] =
            cls ? (t == start ? dpooled[s * h + j] : T(0)) : dpooled[s * h + j] / T(len);
  }
}

// Weighted mean cross-entropy: sum_i w_i CE_i / sum_i w_i. dlogits written.
template <typename T>
T cross_entropy(const T* logits, int n, int k, const int* labels, const T* weights, T* dlogits) {
  T total = 0, wsum = 0;
  for (int i = 0; i < n; ++i) wsum += weights ? weights[i] : T(1);
  if (wsum <= 0) wsum = 1;
  for (int i = 0; i < n; ++i) {
    const T* z = logits + static_cast<size_t>(i) * k;
    T mx = z[0];
    for (int c = 1; c < k; ++c) mx = std::max(mx, z[c]);
    T sum = 0;
    for (int c = 0; c < k; ++c) sum += std::exp(z[c] - mx);
    T lse = mx + std::log(sum);
    T w = weights ? weights[i] : T(1);
    total += w * (lse - z[labels[i]]);
    if (dlogits)
      for (int c = 0; c < k; ++c)
        dlogits[static_cast<size_t>(i) * k + c] =
            w / wsum * (std::exp(z[c] - lse) - (c == labels[i] ? T(1) : T(0)));
  }
  return total / wsum;
}

}  // namespace sf::train::ops
