// gelu.cu: bias + exact GELU (fused), after the feed-forward up-projection.
//
// What it does: y = gelu(y + bias) element-wise over a [rows, cols] matrix,
// with gelu(v) = v / 2 * (1 + erf(v / sqrt(2))) (BERT's "gelu", not the tanh
// approximation), in a grid-stride loop.
// Promises: touches each element once, in place.
// Failure: see ops.cuh (launch errors only).
#include "kernels/cuda_check.cuh"
#include "kernels/ops.cuh"

namespace sf::cuda {
namespace {

__global__ void bias_gelu_kernel(float* __restrict__ y, const float* __restrict__ bias, size_t n,
                                 int cols) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float v = y[i] + bias[i % cols];
    y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
  }
}

}  // namespace

void bias_gelu(float* y, const float* bias, int rows, int cols, cudaStream_t stream) {
  const size_t n = static_cast<size_t>(rows) * cols;
  if (n == 0) return;
  constexpr int kThreads = 256;
  const size_t wanted = (n + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 65536 ? wanted : 65536);
  bias_gelu_kernel<<<blocks, kThreads, 0, stream>>>(y, bias, n, cols);
  check_launch("bias_gelu_kernel");
}

}  // namespace sf::cuda
