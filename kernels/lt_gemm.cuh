// lt_gemm.cuh: the quantized matrix products of the encoder, through cuBLASLt.
//
// What it does: LtGemm::run() computes y[rows, n] = x[rows, k] * w[n, k]^T for row-major
// x (activations, one row per token) and w (weights as PyTorch Linear stores them), on
// tensor cores: int8 x int8 -> int32 (CUBLAS_COMPUTE_32I) or fp8 e4m3 x e4m3 -> fp32
// (CUBLAS_COMPUTE_32F). In cuBLASLt's column-major terms that is D[n, rows] = W^T' X with
// A = w read transposed and B = x not transposed: the "TN" form that cuBLASLt's int8 and
// fp8 kernels require on Hopper (regular column-major ordering, no COL32 layouts). The
// raw accumulators come back unscaled; the caller's epilogue applies the scales.
// A plan (operation descriptor, layouts and the heuristic's first algorithm) is made
// once per shape and kept (at most kMaxPlans shapes; then the cache starts over), so
// repeated shapes cost one cublasLtMatmul call, which CUDA graphs can capture.
// Promises: int32 results are exact (|acc| <= 127 * 127 * k < 2^31 for k < 133,000), so
// int8 products are bitwise reproducible whatever algorithm runs; the workspace is the
// object's own (32 MiB), so a stream's products must not overlap in time (one stream).
// Failure: throws sf::model::BackendError naming the call when cuBLASLt refuses a shape
// (n or k not a multiple of 4 for int8, of 16 for fp8) or fails; a bad shape is a bug of
// the caller, which checks them at load.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <compare>
#include <cstddef>
#include <map>

#include "kernels/device_buffer.cuh"

namespace sf::cuda {

enum class GemmType { kInt8, kFp8 };

class LtGemm {
 public:
  LtGemm() = default;
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;
  ~LtGemm();

  // Creates the handle and the workspace on the current device. Throws BackendError.
  void init();
  void run(GemmType type, const void* w, const void* x, void* y, int rows, int n, int k,
           cudaStream_t stream);
  void clear_plans() noexcept;

  static constexpr size_t kWorkspaceBytes = size_t{32} << 20;
  static constexpr size_t kMaxPlans = 512;

 private:
  struct Key {
    GemmType type;
    int rows, n, k;
    auto operator<=>(const Key&) const = default;
  };
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  Plan& plan(const Key& key);
  static void destroy(Plan& p) noexcept;

  cublasLtHandle_t lt_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;
  std::map<Key, Plan> plans_;
};

}  // namespace sf::cuda
