// ops.cuh: the encoder's device operations other than the matrix products.
//
// What it does: declares one host-side launcher per fused kernel; each .cu
// file beside this one implements one of them. All tensors are row-major fp32
// over the packed tokens of a batch (row t = token t, no padding); `offsets`
// (batch + 1 entries, on the device) says where each sequence starts.
// Promises: every launcher only enqueues work on `stream` (asynchronous) and
// writes exactly the outputs it names.
// Failure: a launcher throws sf::model::BackendError when the launch itself
// fails (bad configuration or an earlier device fault); device faults during
// the kernel show at the next synchronisation.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sf::cuda {

// out[t] = LayerNorm(word[tokens[t]] + position[t - start of its sequence] + type0)
// (token type 0 for every token: single-segment input).
void embed_layernorm(const int32_t* tokens, const int32_t* offsets, int batch, int total_tokens,
                     const float* word, const float* position, const float* type0,
                     const float* gamma, const float* beta, int hidden, float eps, float* out,
                     cudaStream_t stream);

// x[t] = LayerNorm(y[t] + bias + x[t]) for every row t (x is read, then overwritten).
void bias_residual_layernorm(const float* y, const float* bias, float* x, const float* gamma,
                             const float* beta, int rows, int hidden, float eps,
                             cudaStream_t stream);

// y[t][c] = gelu(y[t][c] + bias[c]), exact (erf) GELU.
void bias_gelu(float* y, const float* bias, int rows, int cols, cudaStream_t stream);

// Largest head dimension attention() handles.
constexpr int kMaxHeadDim = 64;

// Softmax attention inside each sequence, every head. qkv is [tokens, 3 * hidden] without
// bias (query | key | value, head h at columns h * head_dim ..), qkv_bias its [3 * hidden]
// bias; ctx is [tokens, hidden]. max_len: the longest sequence of the batch.
void attention(const float* qkv, const float* qkv_bias, const int32_t* offsets, int batch,
               int max_len, int heads, int head_dim, float* ctx, cudaStream_t stream);

// Per sequence b: pooled[b] = mean of x over its tokens (or its first token when !mean),
// logits[b] = weight * pooled[b] + bias (weight is [labels, hidden]).
void pool_head(const float* x, const int32_t* offsets, int batch, int hidden, bool mean,
               const float* weight, const float* bias, int labels, float* pooled, float* logits,
               cudaStream_t stream);

}  // namespace sf::cuda
