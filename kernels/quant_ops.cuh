// quant_ops.cuh: the quantized encoder's device operations other than the matrix products.
//
// What it does: declares one host-side launcher per fused kernel of the "cuda-int8" and
// "cuda-fp8" backends (quant_backend.cu). Activations that feed a matrix product are
// quantized per token (row): row t of a [rows, cols] matrix is q[t][c] * qs[t], with
// q int8 (|q| <= 127) or fp8 e4m3 (|q| <= 448) and qs[t] = max_c |value| / qmax (0 for an
// all-zero row). The matrix products (lt_gemm.cuh) leave raw accumulators (int32 for int8,
// fp32 for fp8) of x_q * w_q^T; the epilogues here dequantize them as
// acc[t][c] * ts[t] * ws[c] (ts: the input's per-token scales, ws: the weight's
// per-output-channel scales), add the bias and do the rest of the step in one pass.
// Tensors are row-major over the packed tokens of a batch (no padding between sequences).
// Launch sizes and real sizes: `rows` is how many rows a launch covers (the capacity of
// a CUDA-graph bucket, or the batch's own token count); dims[0] (device memory) is the
// batch's real token count and dims[1] its sequence count. Rows at or past dims[0] are
// not computed: the quantized outputs of such rows are written as zeros (scale 0), so
// the matrix products that run over the whole bucket read defined memory.
// Promises: every launcher only enqueues work on `stream`; each writes exactly the
// outputs it names. cols % 4 == 0 and cols <= kMaxQuantCols (the backend checks at load).
// Failure: a launcher throws sf::model::BackendError when the launch fails (bad
// configuration or an earlier device fault); faults inside kernels show at the next
// synchronisation.
#pragma once

#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace sf::cuda {

// The two quantized formats and what their products accumulate in.
template <typename Q>
struct QuantTraits;
template <>
struct QuantTraits<int8_t> {
  using Acc = int32_t;
  static constexpr float kMax = 127.0f;
};
template <>
struct QuantTraits<__nv_fp8_e4m3> {
  using Acc = float;
  static constexpr float kMax = 448.0f;
};

// Widest row the epilogues take (a warp holds a row in registers).
constexpr int kMaxQuantCols = 3072;

// x[t] = LayerNorm(word[tokens[t]] + position[t - start of its sequence] + type0), and
// its quantized copy (xq, xs). offsets: dims[1] + 1 entries.
template <typename Q>
void embed_layernorm_quant(const int32_t* tokens, const int32_t* offsets, const int32_t* dims,
                           int rows, const float* word, const float* position, const float* type0,
                           const float* gamma, const float* beta, int hidden, float eps, float* x,
                           Q* xq, float* xs, cudaStream_t stream);

// x[t] = LayerNorm(acc[t] * ts[t] * ws + bias + x[t]) (x read, then overwritten), and its
// quantized copy (xq, xs).
template <typename Q>
void residual_layernorm_quant(const typename QuantTraits<Q>::Acc* acc, const float* ts,
                              const float* ws, const float* bias, float* x, const float* gamma,
                              const float* beta, const int32_t* dims, int rows, int hidden,
                              float eps, Q* xq, float* xs, cudaStream_t stream);

// (q, qs) = quantize(gelu(acc[t] * ts[t] * ws + bias)), exact (erf) GELU.
template <typename Q>
void gelu_quant(const typename QuantTraits<Q>::Acc* acc, const float* ts, const float* ws,
                const float* bias, const int32_t* dims, int rows, int cols, Q* q, float* qs,
                cudaStream_t stream);

// (q, qs) = quantize(in[t]); In is float or __half.
template <typename Q, typename In>
void quantize_rows(const In* in, const int32_t* dims, int rows, int cols, Q* q, float* qs,
                   cudaStream_t stream);

// out[t][c] = acc[t][c] * ts[t] * ws[c] (no bias), for rows below dims[0] only.
template <typename Acc>
void dequantize_rows(const Acc* acc, const float* ts, const float* ws, const int32_t* dims,
                     int rows, int cols, float* out, cudaStream_t stream);

// Head dimensions attention_mma() handles (tensor-core tiles of 16).
inline bool attention_mma_supported(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64;
}

// Softmax attention inside each sequence, every head, on tensor cores (fp16 operands,
// fp32 accumulation and softmax). qkv is the raw accumulator [tokens, 3 * hidden] of the
// QKV product (query | key | value, head h at columns h * head_dim ..), dequantized on
// load as acc * ts[t] * ws[c] + bias[c]; ctx is [tokens, hidden] in fp16. Sequences
// 0 .. batch - 1 (offsets: batch + 1 entries; a sequence of length 0 is skipped);
// max_len: an upper bound of their lengths.
// Dynamic shared memory attention_mma() takes for sequences up to max_len tokens (0 for
// an unsupported head dim), and the one-time setup that allows it for the current device
// (call before the first launch, outside graph capture). Throws BackendError.
size_t attention_mma_smem(int max_len, int head_dim);
void attention_mma_prepare(int max_len, int head_dim);

template <typename Acc>
void attention_mma(const Acc* qkv, const float* ts, const float* ws, const float* bias,
                   const int32_t* offsets, int batch, int max_len, int heads, int head_dim,
                   __half* ctx, cudaStream_t stream);

}  // namespace sf::cuda
