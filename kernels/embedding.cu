// embedding.cu: token embedding gather + position + type, then LayerNorm (fused).
//
// What it does: one warp per token: finds the token's sequence in `offsets`
// (binary search) to get its position, sums the three embedding rows into
// shared memory and normalises them (reduce.cuh).
// Promises: writes every row of `out` once; token ids and positions were
// range-checked on the host (cuda_backend.cu) before launch.
// Failure: see ops.cuh (launch errors only).
#include "kernels/cuda_check.cuh"
#include "kernels/ops.cuh"
#include "kernels/reduce.cuh"

namespace sf::cuda {
namespace {

constexpr int kWarps = 4;  // tokens per block

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

__global__ void embed_layernorm_kernel(
    const int32_t* __restrict__ tokens, const int32_t* __restrict__ offsets, int batch,
    int total_tokens, const float* __restrict__ word, const float* __restrict__ position,
    const float* __restrict__ type0, const float* __restrict__ gamma,
    const float* __restrict__ beta, int hidden, float eps, float* __restrict__ out) {
  extern __shared__ float rows[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int t = blockIdx.x * kWarps + warp;
  if (t >= total_tokens) return;  // whole warp leaves together
  const int pos = t - offsets[sequence_of(offsets, batch, t)];
  const float* w = word + static_cast<size_t>(tokens[t]) * hidden;
  const float* p = position + static_cast<size_t>(pos) * hidden;
  float* row = rows + warp * hidden;
  for (int c = lane; c < hidden; c += 32) row[c] = w[c] + p[c] + type0[c];
  warp_layernorm_row(row, hidden, eps, gamma, beta, out + static_cast<size_t>(t) * hidden, lane);
}

}  // namespace

void embed_layernorm(const int32_t* tokens, const int32_t* offsets, int batch, int total_tokens,
                     const float* word, const float* position, const float* type0,
                     const float* gamma, const float* beta, int hidden, float eps, float* out,
                     cudaStream_t stream) {
  if (total_tokens == 0) return;
  const int blocks = (total_tokens + kWarps - 1) / kWarps;
  const size_t smem = sizeof(float) * kWarps * hidden;
  embed_layernorm_kernel<<<blocks, kWarps * 32, smem, stream>>>(
      tokens, offsets, batch, total_tokens, word, position, type0, gamma, beta, hidden, eps, out);
  check_launch("embed_layernorm_kernel");
}

}  // namespace sf::cuda
