// attention.cu: variable-length multi-head softmax attention over packed sequences.
//
// What it does: one block of kQueryTile threads per (sequence, head, tile of
// queries), one thread per query. The block walks the sequence's keys in
// tiles of KT rows staged in shared memory (the QKV bias is added while
// staging) and keeps an online softmax per query (running max and sum, in
// base 2 with log2(e) / sqrt(head_dim) folded into the query), so any
// sequence length works with fixed shared memory. Sequences never see each
// other's tokens: the keys are read between offsets[b] and offsets[b + 1].
// Promises: ctx rows of every token are written exactly once; head dimensions
// up to kMaxHeadDim (rounded up to a compiled width, the extra columns are
// zeros and change nothing).
// Failure: see ops.cuh; a head_dim above kMaxHeadDim is a bug in the caller
// (cuda_backend.cu rejects such models in load()) and throws BackendError.
#include <cmath>

#include "kernels/cuda_check.cuh"
#include "kernels/ops.cuh"

namespace sf::cuda {
namespace {

constexpr int kQueryTile = 64;  // threads (queries) per block

// D: head width compiled for (a power of two >= 4 and >= head_dim); KT: keys per shared tile.
template <int D, int KT>
__global__ void __launch_bounds__(kQueryTile)
    attention_kernel(const float* __restrict__ qkv, const float* __restrict__ qkv_bias,
                     const int32_t* __restrict__ offsets, int heads, int head_dim, float scale_log2,
                     float* __restrict__ ctx) {
  static_assert(D >= 4 && (D & (D - 1)) == 0, "D must be a power of two");
  __shared__ __align__(16) float ks[KT * D];
  __shared__ __align__(16) float vs[KT * D];
  const int b = blockIdx.x, h = blockIdx.y;
  const int start = offsets[b];
  const int len = offsets[b + 1] - start;
  const int q0 = blockIdx.z * kQueryTile;
  if (q0 >= len) return;  // the whole block leaves together

  const int hidden = heads * head_dim;
  const size_t row_stride = 3 * static_cast<size_t>(hidden);
  const int qi = q0 + static_cast<int>(threadIdx.x);
  const bool active = qi < len;
  const float* q_bias = qkv_bias + h * head_dim;
  const float* k_bias = q_bias + hidden;
  const float* v_bias = q_bias + 2 * hidden;

  float q[D], acc[D];
  const float* q_row = qkv + (start + (active ? qi : 0)) * row_stride + h * head_dim;
#pragma unroll
  for (int i = 0; i < D; ++i) {
    q[i] = i < head_dim ? (q_row[i] + q_bias[i]) * scale_log2 : 0.f;
    acc[i] = 0.f;
  }

  float m = -INFINITY, l = 0.f;
  for (int k0 = 0; k0 < len; k0 += KT) {
    const int nk = min(KT, len - k0);
    __syncthreads();  // the previous tile is consumed
    // Stage keys and values with their bias: element e is row e / D, column e % D (shifts:
    // D is a power of two); columns past head_dim and rows past the sequence get zeros.
#pragma unroll 4
    for (int e = threadIdx.x; e < KT * D; e += kQueryTile) {
      const int r = e / D, c = e % D;
      float kv = 0.f, vv = 0.f;
      if (r < nk && c < head_dim) {
        const float* row = qkv + (start + k0 + r) * row_stride + h * head_dim + c;
        kv = row[hidden] + k_bias[c];
        vv = row[2 * hidden] + v_bias[c];
      }
      ks[e] = kv;
      vs[e] = vv;
    }
    __syncthreads();

    float s[KT];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < KT; ++j) {
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < D; i += 4) {
        const float4 k4 = *reinterpret_cast<const float4*>(&ks[j * D + i]);
        dot = fmaf(q[i], k4.x, dot);
        dot = fmaf(q[i + 1], k4.y, dot);
        dot = fmaf(q[i + 2], k4.z, dot);
        dot = fmaf(q[i + 3], k4.w, dot);
      }
      s[j] = j < nk ? dot : -INFINITY;
      tile_max = fmaxf(tile_max, s[j]);
    }
    const float m_new = fmaxf(m, tile_max);
    const float correction = exp2f(m - m_new);  // 0 on the first tile
    l *= correction;
#pragma unroll
    for (int i = 0; i < D; ++i) acc[i] *= correction;
#pragma unroll
    for (int j = 0; j < KT; ++j) {
      const float p = exp2f(s[j] - m_new);  // 0 for keys past the end
      l += p;
#pragma unroll
      for (int i = 0; i < D; i += 4) {
        const float4 v4 = *reinterpret_cast<const float4*>(&vs[j * D + i]);
        acc[i] = fmaf(p, v4.x, acc[i]);
        acc[i + 1] = fmaf(p, v4.y, acc[i + 1]);
        acc[i + 2] = fmaf(p, v4.z, acc[i + 2]);
        acc[i + 3] = fmaf(p, v4.w, acc[i + 3]);
      }
    }
    m = m_new;
  }

  if (!active) return;
  float* out = ctx + static_cast<size_t>(start + qi) * hidden + h * head_dim;
  const float inv = 1.0f / l;
#pragma unroll
  for (int i = 0; i < D; ++i) {
    if (i < head_dim) out[i] = acc[i] * inv;
  }
}

template <int D, int KT>
void launch(const float* qkv, const float* qkv_bias, const int32_t* offsets, int batch, int max_len,
            int heads, int head_dim, float* ctx, cudaStream_t stream) {
  const dim3 grid(batch, heads, (max_len + kQueryTile - 1) / kQueryTile);
  const float scale_log2 = 1.4426950408889634f / std::sqrt(static_cast<float>(head_dim));
  attention_kernel<D, KT>
      <<<grid, kQueryTile, 0, stream>>>(qkv, qkv_bias, offsets, heads, head_dim, scale_log2, ctx);
  check_launch("attention_kernel");
}

}  // namespace

void attention(const float* qkv, const float* qkv_bias, const int32_t* offsets, int batch,
               int max_len, int heads, int head_dim, float* ctx, cudaStream_t stream) {
  if (batch == 0 || max_len == 0) return;
  static_assert(kMaxHeadDim == 64, "update the dispatch below");
  if (head_dim <= 8) {
    launch<8, 64>(qkv, qkv_bias, offsets, batch, max_len, heads, head_dim, ctx, stream);
  } else if (head_dim <= 16) {
    launch<16, 64>(qkv, qkv_bias, offsets, batch, max_len, heads, head_dim, ctx, stream);
  } else if (head_dim <= 32) {
    launch<32, 32>(qkv, qkv_bias, offsets, batch, max_len, heads, head_dim, ctx, stream);
  } else if (head_dim <= 64) {
    launch<64, 32>(qkv, qkv_bias, offsets, batch, max_len, heads, head_dim, ctx, stream);
  } else {
    throw sf::model::BackendError("cuda: attention: head dimension " + std::to_string(head_dim) +
                                  " is above the supported " + std::to_string(kMaxHeadDim));
  }
}

}  // namespace sf::cuda
