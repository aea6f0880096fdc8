// quant_epilogue.cu: the fused row kernels of the quantized encoder (see quant_ops.cuh).
//
// What it does: one warp per row (token). Lane l holds the columns 4 * (l + 32 i) .. + 3
// for i < N in registers (N = ceil(cols / 128), compiled for a few widths), so a row is
// read once, reduced in registers (LayerNorm: two passes over the registers, mean then
// the mean squared deviation, as the CPU reference does; the quantizer: the row's
// largest magnitude) and written once: fp32 where the residual stream needs it, and the
// quantized copy plus its per-token scale for the next matrix product.
// Promises: rows at or past dims[0] get zero quantized rows and scale 0 and nothing
// else; every other row is written completely. A row's result depends on that row only.
// Failure: see quant_ops.cuh; a width above kMaxQuantCols throws BackendError (the
// backend refuses such models at load, so this is a bug).
#include <string>
#include <type_traits>

#include "kernels/cuda_check.cuh"
#include "kernels/quant_device.cuh"
#include "kernels/quant_ops.cuh"
#include "kernels/reduce.cuh"

namespace sf::cuda {
namespace {

constexpr int kWarps = 4;  // rows per block

template <int N>
using Regs = float4[N];

__device__ __forceinline__ int group_col(int lane, int i) { return 4 * (lane + 32 * i); }

// LayerNorm of the row held in v (groups past `cols` hold zeros and stay zero).
template <int N>
__device__ __forceinline__ void layernorm_regs(Regs<N>& v, int lane, int cols, float eps,
                                               const float* gamma, const float* beta) {
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) sum += (v[i].x + v[i].y) + (v[i].z + v[i].w);
  const float mean = warp_sum(sum) / static_cast<float>(cols);
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if (group_col(lane, i) < cols) {
      const float a = v[i].x - mean, b = v[i].y - mean, c = v[i].z - mean, d = v[i].w - mean;
      sq += (a * a + b * b) + (c * c + d * d);
    }
  }
  const float var = warp_sum(sq) / static_cast<float>(cols);
  const float inv = 1.0f / sqrtf(var + eps);
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    if (c < cols) {
      const float4 g = load4(gamma + c), b = load4(beta + c);
      v[i] = make_float4((v[i].x - mean) * inv * g.x + b.x, (v[i].y - mean) * inv * g.y + b.y,
                         (v[i].z - mean) * inv * g.z + b.z, (v[i].w - mean) * inv * g.w + b.w);
    }
  }
}

// Quantizes the row in v to q_row with one scale per row (written by lane 0).
template <typename Q, int N>
__device__ __forceinline__ void store_row_quant(const Regs<N>& v, int lane, int cols, Q* q_row,
                                                float* scale) {
  constexpr float kMax = QuantTraits<Q>::kMax;
  float amax = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if (group_col(lane, i) < cols) amax = fmaxf(amax, max_abs4(v[i]));
  }
  amax = warp_max(amax);
  const float inv = amax > 0.f ? kMax / amax : 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    if (c < cols) store_q4(q_row + c, v[i], inv);
  }
  if (lane == 0) *scale = amax / kMax;
}

template <typename Q, int N>
__device__ __forceinline__ void store_row_zero(int lane, int cols, Q* q_row, float* scale) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    if (c < cols) store_zero4(q_row + c);
  }
  if (lane == 0) *scale = 0.f;
}

// Index of the sequence that holds token t: the last b with offsets[b] <= t.
__device__ int sequence_of(const int32_t* offsets, int batch, int t) {
  int lo = 0, hi = batch - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (offsets[mid] <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

template <typename Q, int N>
__global__ void __launch_bounds__(kWarps * 32)
    embed_layernorm_quant_kernel(const int32_t* __restrict__ tokens,
                                 const int32_t* __restrict__ offsets,
                                 const int32_t* __restrict__ dims, int rows,
                                 const float* __restrict__ word, const float* __restrict__ position,
                                 const float* __restrict__ type0, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, int hidden, float eps,
                                 float* __restrict__ x, Q* __restrict__ xq,
                                 float* __restrict__ xs) {
  const int lane = threadIdx.x % 32;
  const int t = blockIdx.x * kWarps + threadIdx.x / 32;
  if (t >= rows) return;  // the whole warp leaves together
  Q* q_row = xq + static_cast<size_t>(t) * hidden;
  if (t >= dims[0]) {
    store_row_zero<Q, N>(lane, hidden, q_row, xs + t);
    return;
  }
  const int pos = t - offsets[sequence_of(offsets, dims[1], t)];
  const float* w = word + static_cast<size_t>(tokens[t]) * hidden;
  const float* p = position + static_cast<size_t>(pos) * hidden;
  Regs<N> v;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    v[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (c < hidden) {
      const float4 a = load4(w + c), b = load4(p + c), e = load4(type0 + c);
      v[i] = make_float4(a.x + b.x + e.x, a.y + b.y + e.y, a.z + b.z + e.z, a.w + b.w + e.w);
    }
  }
  layernorm_regs<N>(v, lane, hidden, eps, gamma, beta);
  float* x_row = x + static_cast<size_t>(t) * hidden;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    if (c < hidden) *reinterpret_cast<float4*>(x_row + c) = v[i];
  }
  store_row_quant<Q, N>(v, lane, hidden, q_row, xs + t);
}

template <typename Q, int N>
__global__ void __launch_bounds__(kWarps * 32)
    residual_layernorm_quant_kernel(const typename QuantTraits<Q>::Acc* __restrict__ acc,
                                    const float* __restrict__ ts, const float* __restrict__ ws,
                                    const float* __restrict__ bias, float* __restrict__ x,
                                    const float* __restrict__ gamma, const float* __restrict__ beta,
                                    const int32_t* __restrict__ dims, int rows, int hidden,
                                    float eps, Q* __restrict__ xq, float* __restrict__ xs) {
  const int lane = threadIdx.x % 32;
  const int t = blockIdx.x * kWarps + threadIdx.x / 32;
  if (t >= rows) return;
  Q* q_row = xq + static_cast<size_t>(t) * hidden;
  if (t >= dims[0]) {
    store_row_zero<Q, N>(lane, hidden, q_row, xs + t);
    return;
  }
  const size_t base = static_cast<size_t>(t) * hidden;
  const float s = ts[t];
  Regs<N> v;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    v[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (c < hidden) {
      const float4 y = dequant4(load4(acc + base + c), s, load4(ws + c), load4(bias + c));
      const float4 r = load4(x + base + c);
      v[i] = make_float4(y.x + r.x, y.y + r.y, y.z + r.z, y.w + r.w);
    }
  }
  layernorm_regs<N>(v, lane, hidden, eps, gamma, beta);
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    if (c < hidden) *reinterpret_cast<float4*>(x + base + c) = v[i];
  }
  store_row_quant<Q, N>(v, lane, hidden, q_row, xs + t);
}

__device__ __forceinline__ float gelu(float v) {
  return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
}

template <typename Q, int N>
__global__ void __launch_bounds__(kWarps * 32)
    gelu_quant_kernel(const typename QuantTraits<Q>::Acc* __restrict__ acc,
                      const float* __restrict__ ts, const float* __restrict__ ws,
                      const float* __restrict__ bias, const int32_t* __restrict__ dims, int rows,
                      int cols, Q* __restrict__ q, float* __restrict__ qs) {
  const int lane = threadIdx.x % 32;
  const int t = blockIdx.x * kWarps + threadIdx.x / 32;
  if (t >= rows) return;
  Q* q_row = q + static_cast<size_t>(t) * cols;
  if (t >= dims[0]) {
    store_row_zero<Q, N>(lane, cols, q_row, qs + t);
    return;
  }
  const size_t base = static_cast<size_t>(t) * cols;
  const float s = ts[t];
  Regs<N> v;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    v[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (c < cols) {
      const float4 y = dequant4(load4(acc + base + c), s, load4(ws + c), load4(bias + c));
      v[i] = make_float4(gelu(y.x), gelu(y.y), gelu(y.z), gelu(y.w));
    }
  }
  store_row_quant<Q, N>(v, lane, cols, q_row, qs + t);
}

template <typename Q, typename In, int N>
__global__ void __launch_bounds__(kWarps * 32)
    quantize_rows_kernel(const In* __restrict__ in, const int32_t* __restrict__ dims, int rows,
                         int cols, Q* __restrict__ q, float* __restrict__ qs) {
  const int lane = threadIdx.x % 32;
  const int t = blockIdx.x * kWarps + threadIdx.x / 32;
  if (t >= rows) return;
  Q* q_row = q + static_cast<size_t>(t) * cols;
  if (t >= dims[0]) {
    store_row_zero<Q, N>(lane, cols, q_row, qs + t);
    return;
  }
  const In* row = in + static_cast<size_t>(t) * cols;
  Regs<N> v;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int c = group_col(lane, i);
    v[i] = c < cols ? load4(row + c) : make_float4(0.f, 0.f, 0.f, 0.f);
  }
  store_row_quant<Q, N>(v, lane, cols, q_row, qs + t);
}

template <typename Acc>
__global__ void dequantize_rows_kernel(const Acc* __restrict__ acc, const float* __restrict__ ts,
                                       const float* __restrict__ ws,
                                       const int32_t* __restrict__ dims, int rows, int cols,
                                       float* __restrict__ out) {
  const int groups = cols / 4;
  const size_t n = static_cast<size_t>(rows) * groups;
  const int real_rows = dims[0];
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t g = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < n; g += stride) {
    const int t = static_cast<int>(g / groups);
    if (t >= real_rows) continue;
    const int c = static_cast<int>(g % groups) * 4;
    const size_t i = static_cast<size_t>(t) * cols + c;
    const float4 w = load4(ws + c);
    const float s = ts[t];
    const float4 a = load4(acc + i);
    *reinterpret_cast<float4*>(out + i) =
        make_float4(a.x * s * w.x, a.y * s * w.y, a.z * s * w.z, a.w * s * w.w);
  }
}

// Calls f(std::integral_constant<int, N>{}) with the smallest compiled N >= cols / 128.
template <typename F>
void with_width(int cols, const char* what, F&& f) {
  const int need = (cols + 127) / 128;
  if (cols % 4 != 0 || cols > kMaxQuantCols || cols < 4) {
    throw sf::model::BackendError(std::string("cuda: ") + what + ": row width " +
                                  std::to_string(cols) + " is not a multiple of 4 up to " +
                                  std::to_string(kMaxQuantCols));
  }
  static_assert(kMaxQuantCols == 24 * 128, "update the widths below");
  if (need <= 1) return f(std::integral_constant<int, 1>{});
  if (need <= 2) return f(std::integral_constant<int, 2>{});
  if (need <= 3) return f(std::integral_constant<int, 3>{});
  if (need <= 4) return f(std::integral_constant<int, 4>{});
  if (need <= 6) return f(std::integral_constant<int, 6>{});
  if (need <= 8) return f(std::integral_constant<int, 8>{});
  if (need <= 12) return f(std::integral_constant<int, 12>{});
  if (need <= 16) return f(std::integral_constant<int, 16>{});
  return f(std::integral_constant<int, 24>{});
}

int row_blocks(int rows) { return (rows + kWarps - 1) / kWarps; }

}  // namespace

template <typename Q>
void embed_layernorm_quant(const int32_t* tokens, const int32_t* offsets, const int32_t* dims,
                           int rows, const float* word, const float* position, const float* type0,
                           const float* gamma, const float* beta, int hidden, float eps, float* x,
                           Q* xq, float* xs, cudaStream_t stream) {
  if (rows == 0) return;
  with_width(hidden, "embed_layernorm_quant", [&](auto n) {
    embed_layernorm_quant_kernel<Q, decltype(n)::value>
        <<<row_blocks(rows), kWarps * 32, 0, stream>>>(tokens, offsets, dims, rows, word, position,
                                                       type0, gamma, beta, hidden, eps, x, xq, xs);
  });
  check_launch("embed_layernorm_quant_kernel");
}

template <typename Q>
void residual_layernorm_quant(const typename QuantTraits<Q>::Acc* acc, const float* ts,
                              const float* ws, const float* bias, float* x, const float* gamma,
                              const float* beta, const int32_t* dims, int rows, int hidden,
                              float eps, Q* xq, float* xs, cudaStream_t stream) {
  if (rows == 0) return;
  with_width(hidden, "residual_layernorm_quant", [&](auto n) {
    residual_layernorm_quant_kernel<Q, decltype(n)::value>
        <<<row_blocks(rows), kWarps * 32, 0, stream>>>(acc, ts, ws, bias, x, gamma, beta, dims,
                                                       rows, hidden, eps, xq, xs);
  });
  check_launch("residual_layernorm_quant_kernel");
}

template <typename Q>
void gelu_quant(const typename QuantTraits<Q>::Acc* acc, const float* ts, const float* ws,
                const float* bias, const int32_t* dims, int rows, int cols, Q* q, float* qs,
                cudaStream_t stream) {
  if (rows == 0) return;
  with_width(cols, "gelu_quant", [&](auto n) {
    gelu_quant_kernel<Q, decltype(n)::value>
        <<<row_blocks(rows), kWarps * 32, 0, stream>>>(acc, ts, ws, bias, dims, rows, cols, q, qs);
  });
  check_launch("gelu_quant_kernel");
}

template <typename Q, typename In>
void quantize_rows(const In* in, const int32_t* dims, int rows, int cols, Q* q, float* qs,
                   cudaStream_t stream) {
  if (rows == 0) return;
  with_width(cols, "quantize_rows", [&](auto n) {
    quantize_rows_kernel<Q, In, decltype(n)::value>
        <<<row_blocks(rows), kWarps * 32, 0, stream>>>(in, dims, rows, cols, q, qs);
  });
  check_launch("quantize_rows_kernel");
}

template <typename Acc>
void dequantize_rows(const Acc* acc, const float* ts, const float* ws, const int32_t* dims,
                     int rows, int cols, float* out, cudaStream_t stream) {
  if (rows == 0) return;
  if (cols % 4 != 0)
    throw sf::model::BackendError("cuda: dequantize_rows: width not a multiple of 4");
  constexpr int kThreads = 256;
  const size_t groups = static_cast<size_t>(rows) * (cols / 4);
  const size_t wanted = (groups + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 65536 ? wanted : 65536);
  dequantize_rows_kernel<Acc><<<blocks, kThreads, 0, stream>>>(acc, ts, ws, dims, rows, cols, out);
  check_launch("dequantize_rows_kernel");
}

// The two formats the backend builds.
#define SF_QUANT_INSTANTIATE(Q)                                                                   \
  template void embed_layernorm_quant<Q>(                                                         \
      const int32_t*, const int32_t*, const int32_t*, int, const float*, const float*,            \
      const float*, const float*, const float*, int, float, float*, Q*, float*, cudaStream_t);    \
  template void residual_layernorm_quant<Q>(                                                      \
      const QuantTraits<Q>::Acc*, const float*, const float*, const float*, float*, const float*, \
      const float*, const int32_t*, int, int, float, Q*, float*, cudaStream_t);                   \
  template void gelu_quant<Q>(const QuantTraits<Q>::Acc*, const float*, const float*,             \
                              const float*, const int32_t*, int, int, Q*, float*, cudaStream_t);  \
  template void quantize_rows<Q, float>(const float*, const int32_t*, int, int, Q*, float*,       \
                                        cudaStream_t);                                            \
  template void quantize_rows<Q, __half>(const __half*, const int32_t*, int, int, Q*, float*,     \
                                         cudaStream_t);                                           \
  template void dequantize_rows<QuantTraits<Q>::Acc>(const QuantTraits<Q>::Acc*, const float*,    \
                                                     const float*, const int32_t*, int, int,      \
                                                     float*, cudaStream_t);
SF_QUANT_INSTANTIATE(int8_t)
SF_QUANT_INSTANTIATE(__nv_fp8_e4m3)
#undef SF_QUANT_INSTANTIATE

}  // namespace sf::cuda
