// bench_cuda_ops.cpp: see bench_cuda_ops.h. Calls the same launchers (ops.cuh) and
// cuBLAS products as cuda_backend.cu, on buffers filled with random values (never
// zeros), each timed with CUDA events over repeated launches after a warm-up.
#include "kernels/bench_cuda_ops.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cuda_check.cuh"
#include "kernels/device_buffer.cuh"
#include "kernels/ops.cuh"
#include "model/model.h"

namespace sf::cuda {
namespace {

void fill_random(DeviceBuffer<float>& buf, size_t n, uint32_t seed, float scale) {
  buf.allocate(n);
  std::vector<float> host(n);
  uint32_t s = seed * 747796405u + 2891336453u;
  for (float& v : host) {
    s = s * 1664525u + 1013904223u;
    v = scale * (static_cast<float>(s >> 8) * (2.0f / 16777216.0f) - 1.0f);
  }
  check(cudaMemcpy(buf.data(), host.data(), n * sizeof(float), cudaMemcpyHostToDevice),
        "cudaMemcpy");
}

// Mean milliseconds of one call of `op`, over `reps` calls after 3 warm-up calls.
double time_ms(cudaStream_t stream, const std::function<void()>& op, int reps = 20) {
  for (int i = 0; i < 3; ++i) op();
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  check(cudaEventRecord(a, stream), "cudaEventRecord");
  for (int i = 0; i < reps; ++i) op();
  check(cudaEventRecord(b, stream), "cudaEventRecord");
  check(cudaEventSynchronize(b), "cudaEventSynchronize");
  float ms = 0.f;
  check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / reps;
}

}  // namespace

void print_op_breakdown(int device, int batch, int len) {
  check(cudaSetDevice(device), "cudaSetDevice");
  const sf::model::Config c;  // MiniLM-L6-H384's shape
  const int H = c.hidden, I = c.intermediate, L = c.num_labels, T = batch * len;
  const size_t t = static_cast<size_t>(T);
  cudaStream_t stream;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");
  cublasHandle_t blas;
  check(cublasCreate(&blas), "cublasCreate");
  check(cublasSetStream(blas, stream), "cublasSetStream");
  check(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");

  DeviceBuffer<float> x, qkv, ctx, inter, w, bias, gamma, beta, word, pos, pooled, logits;
  fill_random(x, t * H, 1, 1.0f);
  fill_random(qkv, t * 3 * H, 2, 1.0f);
  fill_random(ctx, t * H, 3, 1.0f);
  fill_random(inter, t * I, 4, 1.0f);
  fill_random(w, static_cast<size_t>(I) * H, 5, 0.05f);
  fill_random(bias, 3 * static_cast<size_t>(std::max(H, I)), 6, 0.1f);
  fill_random(gamma, H, 7, 1.0f);
  fill_random(beta, H, 8, 0.1f);
  fill_random(word, static_cast<size_t>(c.vocab_size) * H, 9, 0.5f);
  fill_random(pos, static_cast<size_t>(c.max_positions) * H, 10, 0.5f);
  pooled.allocate(static_cast<size_t>(batch) * H);
  logits.allocate(static_cast<size_t>(batch) * L);
  std::vector<int32_t> ids(static_cast<size_t>(batch) + 1 + t);
  for (int b = 0; b <= batch; ++b) ids[static_cast<size_t>(b)] = b * len;
  for (size_t i = 0; i < t; ++i) ids[static_cast<size_t>(batch) + 1 + i] = (i * 7919) % 30000;
  DeviceBuffer<int32_t> d_ids;
  d_ids.allocate(ids.size());
  check(cudaMemcpy(d_ids.data(), ids.data(), ids.size() * sizeof(int32_t), cudaMemcpyHostToDevice),
        "cudaMemcpy");
  const int32_t* offsets = d_ids.data();
  const int32_t* tokens = d_ids.data() + batch + 1;

  auto gemm = [&](const float* in, int k, int n, float* out) {
    return [=, &w] {
      const float one = 1.f, zero = 0.f;
      check(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, n, T, k, &one, w.data(), k, in, k, &zero,
                        out, n),
            "cublasSgemm");
    };
  };
  struct Row {
    std::string name;
    double ms, work;  // work: FLOP for products and attention, bytes otherwise
    bool flops;
    int per_pass;  // calls per forward pass
  };
  std::vector<Row> rows;
  auto add = [&](const std::string& name, const std::function<void()>& op, double work, bool flops,
                 int per_pass) {
    rows.push_back({name, time_ms(stream, op), work, flops, per_pass});
  };
  const double td = static_cast<double>(t), hd = H, id = I;
  add(
      "embed+layernorm",
      [&] {
        embed_layernorm(tokens, offsets, batch, T, word.data(), pos.data(), pos.data(),
                        gamma.data(), beta.data(), H, 1e-12f, x.data(), stream);
      },
      td * hd * 4 * 3, false, 1);
  add("gemm qkv", gemm(x.data(), H, 3 * H, qkv.data()), 2 * td * hd * 3 * hd, true, c.layers);
  add(
      "attention",
      [&] {
        attention(qkv.data(), bias.data(), offsets, batch, len, c.heads, H / c.heads, ctx.data(),
                  stream);
      },
      4.0 * td * len * hd, true, c.layers);
  add("gemm attn out", gemm(ctx.data(), H, H, qkv.data()), 2 * td * hd * hd, true, c.layers);
  add(
      "bias+res+layernorm",
      [&] {
        bias_residual_layernorm(qkv.data(), bias.data(), x.data(), gamma.data(), beta.data(), T, H,
                                1e-12f, stream);
      },
      td * hd * 4 * 3, false, 2 * c.layers);
  add("gemm ffn in", gemm(x.data(), H, I, inter.data()), 2 * td * hd * id, true, c.layers);
  add(
      "bias+gelu", [&] { bias_gelu(inter.data(), bias.data(), T, I, stream); }, td * id * 4 * 2,
      false, c.layers);
  add("gemm ffn out", gemm(inter.data(), I, H, qkv.data()), 2 * td * hd * id, true, c.layers);
  add(
      "pool+head",
      [&] {
        pool_head(x.data(), offsets, batch, H, true, w.data(), bias.data(), L, pooled.data(),
                  logits.data(), stream);
      },
      td * hd * 4, false, 1);

  double pass = 0;
  for (const Row& r : rows) pass += r.ms * r.per_pass;
  std::printf("\nper-op, %d x %d tokens (T = %d), one call each; pass = sum of calls x count\n",
              batch, len, T);
  std::printf("%-20s %9s %6s %12s %7s\n", "op", "ms/call", "count", "rate", "pass %");
  for (const Row& r : rows) {
    const double rate = r.work / (r.ms * 1e-3) / 1e12;
    std::printf("%-20s %9.4f %6d %8.2f %s %6.1f\n", r.name.c_str(), r.ms, r.per_pass, rate,
                r.flops ? "TF/s" : "TB/s", 100.0 * r.ms * r.per_pass / pass);
  }
  std::printf("%-20s %9.3f\n", "forward pass (sum)", pass);
  cublasDestroy(blas);
  cudaStreamDestroy(stream);
}

}  // namespace sf::cuda
