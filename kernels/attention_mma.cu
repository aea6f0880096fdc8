// attention_mma.cu: variable-length multi-head attention on tensor cores (see quant_ops.cuh).
//
// What it does: one block of 4 warps per (sequence, head) (small batches split a
// sequence's queries over a few blocks). The block first dequantizes every key and value
// of its sequence and head from the raw QKV accumulators (acc * token scale * channel
// scale + bias) into fp16 in shared memory, once (rows padded by 16 bytes so the fragment
// loads hit distinct banks); after that single barrier each warp takes groups of 16
// queries on its own. Scores S = Q K^T come from mma.sync m16n8k16 (fp16 in, fp32 out)
// with log2(e) / sqrt(head_dim) folded into Q, 64 keys at a time; an online softmax in
// base 2 (running max and sum per query row, FlashAttention-2 style) turns them into
// probabilities, which are re-packed from the score fragments straight into the A
// operand of the second product O += P V (V's B fragments come from ldmatrix.trans).
// Only the sequence's own keys are read (offsets), so sequences never mix.
// Promises: for head dims 16, 32 and 64, every ctx row of every token of a sequence
// 0 .. batch - 1 is written once (fp16), from fp32 scores and sums; a query's result does
// not depend on which block or warp computed it (same key order), so launch shapes never
// change the bits. Shared memory: 2 * round_up(max_len, 64) * (head_dim + 8) halves per
// block (80 KB at 512 tokens, head dim 32); attention_mma_prepare() must have allowed it.
// Failure: see quant_ops.cuh; another head dim is a caller bug and throws BackendError.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cuda_check.cuh"
#include "kernels/quant_device.cuh"
#include "kernels/quant_ops.cuh"

namespace sf::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kKeys = 64;  // keys per shared-memory tile

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);  // lo in the low 16 bits
  return *reinterpret_cast<const uint32_t*>(&h);
}

__device__ __forceinline__ void store_half4(__half* p, float4 v) {
  *reinterpret_cast<uint2*>(p) = make_uint2(pack_half2(v.x, v.y), pack_half2(v.z, v.w));
}

__device__ __forceinline__ uint32_t load_shared_u32(const __half* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

// d += a * b for one m16n8k16 tile (row-major A, column-major B, fp32 accumulators).
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 fp16 matrices from shared memory, transposed on the way (lane l names row l % 8
// of matrix l / 8).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const __half* row) {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// Rows of the staged key and value tiles of a launch: the longest sequence, rounded up to
// whole key tiles.
int staged_rows(int max_len) { return (max_len + kKeys - 1) / kKeys * kKeys; }

template <int D>
size_t smem_bytes(int max_len) {
  return 2 * static_cast<size_t>(staged_rows(max_len)) * (D + 8) * sizeof(__half);
}

template <typename Acc, int D>
__global__ void __launch_bounds__(kThreads)
    attention_mma_kernel(const Acc* __restrict__ qkv, const float* __restrict__ ts,
                         const float* __restrict__ ws, const float* __restrict__ bias,
                         const int32_t* __restrict__ offsets, int heads, int kv_rows, float q_mult,
                         __half* __restrict__ ctx) {
  static_assert(D % 16 == 0 && D <= 64, "head dim must be 16, 32 or 64");
  constexpr int kStride = D + 8;  // halves per staged row: 16-byte aligned, bank-spread
  extern __shared__ __align__(16) unsigned char smem[];
  __half* ks = reinterpret_cast<__half*>(smem);
  __half* vs = ks + static_cast<size_t>(kv_rows) * kStride;

  const int b = blockIdx.x, h = blockIdx.y;
  const int start = offsets[b];
  const int len = offsets[b + 1] - start;
  // This block's query groups (16 rows each): blockIdx.z + gridDim.z * i.
  if (static_cast<int>(blockIdx.z) * 16 >= len) return;  // the whole block leaves together

  const int hidden = heads * D;
  const size_t row3 = 3 * static_cast<size_t>(hidden);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, tig = lane % 4;

  // Stage every key and value of the sequence once (rows past its end as zeros, up to
  // the last whole tile).
  const int rows = (len + kKeys - 1) / kKeys * kKeys;
  constexpr int kGroups = D / 4;  // 4-column groups per key row
  for (int e = threadIdx.x; e < rows * kGroups; e += kThreads) {
    const int r = e / kGroups, c = (e % kGroups) * 4;
    float4 kv = make_float4(0.f, 0.f, 0.f, 0.f), vv = kv;
    if (r < len) {
      const int t = start + r;
      const float s = ts[t];
      const int kc = hidden + h * D + c, vc = 2 * hidden + h * D + c;
      kv = dequant4(load4(qkv + t * row3 + kc), s, load4(ws + kc), load4(bias + kc));
      vv = dequant4(load4(qkv + t * row3 + vc), s, load4(ws + vc), load4(bias + vc));
    }
    store_half4(ks + r * kStride + c, kv);
    store_half4(vs + r * kStride + c, vv);
  }
  __syncthreads();  // the only barrier: from here on, warps work independently

  for (int qg = blockIdx.z + gridDim.z * warp; qg * 16 < len; qg += gridDim.z * kWarps) {
    const int qa = qg * 16 + g;  // this thread's query rows: qa and qa + 8

    // Q as A fragments: register r + 2 * part of k-step kk holds row qa + 8 r, columns
    // kk * 16 + part * 8 + 2 tig and + 1.
    uint32_t qf[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
#pragma unroll
        for (int part = 0; part < 2; ++part) {
          const int qi = qa + 8 * r;
          const int col = h * D + kk * 16 + part * 8 + 2 * tig;
          float2 v = make_float2(0.f, 0.f);
          if (qi < len) {
            const int t = start + qi;
            const float2 a = load2(qkv + t * row3 + col);
            const float s = ts[t];
            v.x = fmaf(a.x * s, ws[col], bias[col]) * q_mult;
            v.y = fmaf(a.y * s, ws[col + 1], bias[col + 1]) * q_mult;
          }
          qf[kk][r + 2 * part] = pack_half2(v.x, v.y);
        }
      }
    }

    float o[D / 8][4];
#pragma unroll
    for (int d = 0; d < D / 8; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m[2] = {-INFINITY, -INFINITY};  // running max of rows qa, qa + 8 (base-2 logits)
    float l[2] = {0.f, 0.f};              // this thread's share of the running sums

    for (int k0 = 0; k0 < len; k0 += kKeys) {
      // S = Q K^T: n-tile j covers keys k0 + 8 j .. + 7.
      float s[kKeys / 8][4];
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j) {
        s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          const __half* krow = ks + (k0 + j * 8 + g) * kStride + kk * 16 + 2 * tig;
          mma_16816(s[j], qf[kk], load_shared_u32(krow), load_shared_u32(krow + 8));
        }
      }
      // Mask keys past the end, then the online softmax update.
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j) {
        const int key = k0 + j * 8 + 2 * tig;
        if (key >= len) s[j][0] = s[j][2] = -INFINITY;
        if (key + 1 >= len) s[j][1] = s[j][3] = -INFINITY;
        mx[0] = fmaxf(mx[0], fmaxf(s[j][0], s[j][1]));
        mx[1] = fmaxf(mx[1], fmaxf(s[j][2], s[j][3]));
      }
      float corr[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m[r], mx[r]);  // finite: the tile has a key
        corr[r] = exp2f(m[r] - m_new);           // 0 on the first tile
        m[r] = m_new;
        l[r] *= corr[r];
      }
#pragma unroll
      for (int d = 0; d < D / 8; ++d) {
        o[d][0] *= corr[0];
        o[d][1] *= corr[0];
        o[d][2] *= corr[1];
        o[d][3] *= corr[1];
      }
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j) {
        s[j][0] = exp2f(s[j][0] - m[0]);  // 0 for masked keys
        s[j][1] = exp2f(s[j][1] - m[0]);
        s[j][2] = exp2f(s[j][2] - m[1]);
        s[j][3] = exp2f(s[j][3] - m[1]);
        l[0] += s[j][0] + s[j][1];
        l[1] += s[j][2] + s[j][3];
      }
      // O += P V: k-step kk covers keys k0 + 16 kk .. + 15; the score fragments of
      // n-tiles 2 kk and 2 kk + 1 are exactly P's A fragment for it.
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        const uint32_t a[4] = {pack_half2(s[2 * kk][0], s[2 * kk][1]),
                               pack_half2(s[2 * kk][2], s[2 * kk][3]),
                               pack_half2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                               pack_half2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int p = 0; p < D / 16; ++p) {
          // Matrices: keys +0..7 / +8..15 (lane bit 3) x dims +0..7 / +8..15 (lane bit 4).
          const __half* row = vs + (k0 + kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride +
                              p * 16 + (lane >> 4) * 8;
          uint32_t bf[4];
          ldmatrix_x4_trans(bf, row);
          mma_16816(o[2 * p], a, bf[0], bf[1]);
          mma_16816(o[2 * p + 1], a, bf[2], bf[3]);
        }
      }
    }

#pragma unroll
    for (int r = 0; r < 2; ++r) {
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
      const int qi = qa + 8 * r;
      if (qi >= len) continue;
      const float inv = 1.0f / l[r];
      __half* out = ctx + static_cast<size_t>(start + qi) * hidden + h * D + 2 * tig;
#pragma unroll
      for (int d = 0; d < D / 8; ++d) {
        *reinterpret_cast<__half2*>(out + d * 8) =
            __floats2half2_rn(o[d][2 * r] * inv, o[d][2 * r + 1] * inv);
      }
    }
  }
}

template <typename Acc, int D>
void launch(const Acc* qkv, const float* ts, const float* ws, const float* bias,
            const int32_t* offsets, int batch, int max_len, int heads, __half* ctx,
            cudaStream_t stream) {
  // One block per (sequence, head) stages its keys and values once; small batches split
  // a sequence's query groups over a few blocks (each staging the same keys) so that the
  // GPU has about two blocks per multiprocessor to run.
  const int groups = (max_len + 15) / 16;
  const int blocks = batch * heads;
  int split = blocks >= 264 ? 1 : (264 + blocks - 1) / blocks;
  split = std::max(1, std::min(split, (groups + kWarps - 1) / kWarps));
  const dim3 grid(batch, heads, split);
  const float q_mult = 1.4426950408889634f / std::sqrt(static_cast<float>(D));
  const int kv_rows = staged_rows(max_len);
  attention_mma_kernel<Acc, D><<<grid, kThreads, smem_bytes<D>(max_len), stream>>>(
      qkv, ts, ws, bias, offsets, heads, kv_rows, q_mult, ctx);
  check_launch("attention_mma_kernel");
}

template <int D>
void allow_smem(size_t bytes) {
  const int b = static_cast<int>(bytes);
  check(cudaFuncSetAttribute(attention_mma_kernel<int32_t, D>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, b),
        "cudaFuncSetAttribute (attention_mma_kernel)");
  check(cudaFuncSetAttribute(attention_mma_kernel<float, D>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, b),
        "cudaFuncSetAttribute (attention_mma_kernel)");
}

}  // namespace

template <typename Acc>
void attention_mma(const Acc* qkv, const float* ts, const float* ws, const float* bias,
                   const int32_t* offsets, int batch, int max_len, int heads, int head_dim,
                   __half* ctx, cudaStream_t stream) {
  if (batch == 0 || max_len == 0) return;
  switch (head_dim) {
    case 16:
      return launch<Acc, 16>(qkv, ts, ws, bias, offsets, batch, max_len, heads, ctx, stream);
    case 32:
      return launch<Acc, 32>(qkv, ts, ws, bias, offsets, batch, max_len, heads, ctx, stream);
    case 64:
      return launch<Acc, 64>(qkv, ts, ws, bias, offsets, batch, max_len, heads, ctx, stream);
    default:
      throw sf::model::BackendError("cuda: attention_mma: head dimension " +
                                    std::to_string(head_dim) + " is not 16, 32 or 64");
  }
}

size_t attention_mma_smem(int max_len, int head_dim) {
  switch (head_dim) {
    case 16:
      return smem_bytes<16>(max_len);
    case 32:
      return smem_bytes<32>(max_len);
    case 64:
      return smem_bytes<64>(max_len);
    default:
      return 0;
  }
}

void attention_mma_prepare(int max_len, int head_dim) {
  const size_t bytes = attention_mma_smem(max_len, head_dim);
  switch (head_dim) {
    case 16:
      return allow_smem<16>(bytes);
    case 32:
      return allow_smem<32>(bytes);
    case 64:
      return allow_smem<64>(bytes);
    default:
      throw sf::model::BackendError("cuda: attention_mma: head dimension " +
                                    std::to_string(head_dim) + " is not 16, 32 or 64");
  }
}

template void attention_mma<int32_t>(const int32_t*, const float*, const float*, const float*,
                                     const int32_t*, int, int, int, int, __half*, cudaStream_t);
template void attention_mma<float>(const float*, const float*, const float*, const float*,
                                   const int32_t*, int, int, int, int, __half*, cudaStream_t);

}  // namespace sf::cuda
