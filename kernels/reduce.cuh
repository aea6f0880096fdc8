// reduce.cuh: warp-level reductions and the LayerNorm of one row by one warp.
//
// What it does: warp_sum() adds a value over the 32 lanes of a warp;
// warp_layernorm_row() normalises a row that the warp has staged in shared
// memory (two passes: mean, then the mean squared deviation, as the CPU
// reference does) and writes it out.
// Promises: device-only helpers, no synchronisation beyond the warp; every
// lane of the warp must call them (full-warp shuffles).
// Failure: none (pure arithmetic).
#pragma once

#include <cuda_runtime.h>

namespace sf::cuda {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// row: `hidden` staged values (written by this same warp; __syncwarp() is done here);
// out[c] = (row[c] - mean) / sqrt(var + eps) * gamma[c] + beta[c].
__device__ __forceinline__ void warp_layernorm_row(const float* row, int hidden, float eps,
                                                   const float* gamma, const float* beta,
                                                   float* out, int lane) {
  __syncwarp();
  float sum = 0.f;
  for (int c = lane; c < hidden; c += 32) sum += row[c];
  const float mean = warp_sum(sum) / static_cast<float>(hidden);
  float sq = 0.f;
  for (int c = lane; c < hidden; c += 32) {
    const float d = row[c] - mean;
    sq += d * d;
  }
  const float var = warp_sum(sq) / static_cast<float>(hidden);
  const float inv = 1.0f / sqrtf(var + eps);
  for (int c = lane; c < hidden; c += 32) out[c] = (row[c] - mean) * inv * gamma[c] + beta[c];
}

}  // namespace sf::cuda
