// layernorm.cu: bias + residual + LayerNorm (fused), after each sublayer.
//
// What it does: one warp per row: x = LayerNorm(y + bias + x), where y is the
// sublayer's matrix product (without its bias) and x the residual stream,
// updated in place.
// Promises: each row is read and written by one warp only, so the in-place
// update is race-free.
// Failure: see ops.cuh (launch errors only).
#include "kernels/cuda_check.cuh"
#include "kernels/ops.cuh"
#include "kernels/reduce.cuh"

namespace sf::cuda {
namespace {

constexpr int kWarps = 4;  // rows per block

__global__ void bias_residual_layernorm_kernel(const float* __restrict__ y,
                                               const float* __restrict__ bias,
                                               float* __restrict__ x,
                                               const float* __restrict__ gamma,
                                               const float* __restrict__ beta, int rows_n,
                                               int hidden, float eps) {
  extern __shared__ float rows[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r = blockIdx.x * kWarps + warp;
  if (r >= rows_n) return;  // whole warp leaves together
  const size_t base = static_cast<size_t>(r) * hidden;
  float* row = rows + warp * hidden;
  for (int c = lane; c < hidden; c += 32) row[c] = y[base + c] + bias[c] + x[base + c];
  warp_layernorm_row(row, hidden, eps, gamma, beta, x + base, lane);
}

}  // namespace

void bias_residual_layernorm(const float* y, const float* bias, float* x, const float* gamma,
                             const float* beta, int rows, int hidden, float eps,
                             cudaStream_t stream) {
  if (rows == 0) return;
  const int blocks = (rows + kWarps - 1) / kWarps;
  const size_t smem = sizeof(float) * kWarps * hidden;
  bias_residual_layernorm_kernel<<<blocks, kWarps * 32, smem, stream>>>(y, bias, x, gamma, beta,
                                                                        rows, hidden, eps);
  check_launch("bias_residual_layernorm_kernel");
}

}  // namespace sf::cuda
