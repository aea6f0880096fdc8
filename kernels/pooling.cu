// pooling.cu: sentence pooling + classification head (fused).
//
// What it does: one block per sequence: the pooled vector is the mean of the
// sequence's token rows (or its first, [CLS], row) and is kept in shared
// memory; then each warp computes logits for some labels as a dot product with
// the head's weight row, plus bias.
// Promises: writes pooled[b] (hidden floats) and logits[b] (labels floats)
// for every non-empty sequence b (the backends check real sequences on the host;
// empty ones only pad a CUDA-graph bucket and are skipped).
// Failure: see ops.cuh (launch errors only).
#include "kernels/cuda_check.cuh"
#include "kernels/ops.cuh"
#include "kernels/reduce.cuh"

namespace sf::cuda {
namespace {

constexpr int kThreads = 128;

__global__ void pool_head_kernel(const float* __restrict__ x, const int32_t* __restrict__ offsets,
                                 int hidden, bool mean, const float* __restrict__ weight,
                                 const float* __restrict__ bias, int labels,
                                 float* __restrict__ pooled, float* __restrict__ logits) {
  extern __shared__ float vec[];
  const int b = blockIdx.x;
  const int start = offsets[b];
  const int len = offsets[b + 1] - start;
  if (len == 0) return;  // an empty (padding) sequence of a CUDA-graph bucket: nothing to write
  const float* rows = x + static_cast<size_t>(start) * hidden;
  for (int c = threadIdx.x; c < hidden; c += kThreads) {
    float v;
    if (mean) {
      float sum = 0.f;
      for (int t = 0; t < len; ++t) sum += rows[static_cast<size_t>(t) * hidden + c];
      v = sum / static_cast<float>(len);
    } else {
      v = rows[c];
    }
    vec[c] = v;
    pooled[static_cast<size_t>(b) * hidden + c] = v;
  }
  __syncthreads();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int j = warp; j < labels; j += kThreads / 32) {
    const float* w = weight + static_cast<size_t>(j) * hidden;
    float dot = 0.f;
    for (int c = lane; c < hidden; c += 32) dot = fmaf(w[c], vec[c], dot);
    dot = warp_sum(dot);
    if (lane == 0) logits[static_cast<size_t>(b) * labels + j] = dot + bias[j];
  }
}

}  // namespace

void pool_head(const float* x, const int32_t* offsets, int batch, int hidden, bool mean,
               const float* weight, const float* bias, int labels, float* pooled, float* logits,
               cudaStream_t stream) {
  if (batch == 0) return;
  pool_head_kernel<<<batch, kThreads, sizeof(float) * hidden, stream>>>(
      x, offsets, hidden, mean, weight, bias, labels, pooled, logits);
  check_launch("pool_head_kernel");
}

}  // namespace sf::cuda
