// lt_gemm.cu: see lt_gemm.cuh.
#include <cstdint>
#include <string>

#include "kernels/cuda_check.cuh"
#include "kernels/lt_gemm.cuh"

namespace sf::cuda {

LtGemm::~LtGemm() {
  clear_plans();
  if (lt_ != nullptr) cublasLtDestroy(lt_);
}

void LtGemm::init() {
  if (lt_ != nullptr) return;
  check(cublasLtCreate(&lt_), "cublasLtCreate");
  workspace_.allocate(kWorkspaceBytes);
}

void LtGemm::destroy(Plan& p) noexcept {
  if (p.d != nullptr) cublasLtMatrixLayoutDestroy(p.d);
  if (p.b != nullptr) cublasLtMatrixLayoutDestroy(p.b);
  if (p.a != nullptr) cublasLtMatrixLayoutDestroy(p.a);
  if (p.op != nullptr) cublasLtMatmulDescDestroy(p.op);
  p = Plan{};
}

void LtGemm::clear_plans() noexcept {
  for (auto& [key, p] : plans_) destroy(p);
  plans_.clear();
}

LtGemm::Plan& LtGemm::plan(const Key& key) {
  if (auto it = plans_.find(key); it != plans_.end()) return it->second;
  if (plans_.size() >= kMaxPlans) clear_plans();
  const bool int8 = key.type == GemmType::kInt8;
  const std::string shape = std::string(int8 ? "int8" : "fp8") + " product " +
                            std::to_string(key.rows) + " x " + std::to_string(key.k) + " -> " +
                            std::to_string(key.n);
  Plan p;
  try {
    const cublasComputeType_t compute = int8 ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F;
    const cudaDataType_t scale = int8 ? CUDA_R_32I : CUDA_R_32F;
    const cudaDataType_t in = int8 ? CUDA_R_8I : CUDA_R_8F_E4M3;
    const cudaDataType_t out = int8 ? CUDA_R_32I : CUDA_R_32F;
    check(cublasLtMatmulDescCreate(&p.op, compute, scale), "cublasLtMatmulDescCreate");
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta),
          "cublasLtMatmulDescSetAttribute (transa)");
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb),
          "cublasLtMatmulDescSetAttribute (transb)");
    // A: w as stored, column-major [k, n] (ld k), used transposed; B: x, column-major
    // [k, rows] (ld k); D: column-major [n, rows] (ld n) = row-major y[rows, n].
    check(cublasLtMatrixLayoutCreate(&p.a, in, key.k, key.n, key.k), "cublasLtMatrixLayoutCreate");
    check(cublasLtMatrixLayoutCreate(&p.b, in, key.k, key.rows, key.k),
          "cublasLtMatrixLayoutCreate");
    check(cublasLtMatrixLayoutCreate(&p.d, out, key.n, key.rows, key.n),
          "cublasLtMatrixLayoutCreate");

    cublasLtMatmulPreference_t pref = nullptr;
    check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    size_t ws = kWorkspaceBytes;
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    if (st == CUBLAS_STATUS_SUCCESS) {
      st = cublasLtMatmulAlgoGetHeuristic(lt_, p.op, p.a, p.b, p.d, p.d, pref, 1, &result, &found);
    }
    cublasLtMatmulPreferenceDestroy(pref);
    check(st, ("cublasLtMatmulAlgoGetHeuristic (" + shape + ")").c_str());
    if (found == 0) {
      throw sf::model::BackendError("cuda: cuBLASLt has no algorithm for the " + shape);
    }
    p.algo = result.algo;
  } catch (...) {
    destroy(p);
    throw;
  }
  return plans_.emplace(key, p).first->second;
}

void LtGemm::run(GemmType type, const void* w, const void* x, void* y, int rows, int n, int k,
                 cudaStream_t stream) {
  if (rows == 0) return;
  const Plan& p = plan({type, rows, n, k});
  const int32_t one_i = 1, zero_i = 0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const bool int8 = type == GemmType::kInt8;
  const void* alpha = int8 ? static_cast<const void*>(&one_i) : static_cast<const void*>(&one_f);
  const void* beta = int8 ? static_cast<const void*>(&zero_i) : static_cast<const void*>(&zero_f);
  check(cublasLtMatmul(lt_, p.op, alpha, w, p.a, x, p.b, beta, y, p.d, y, p.d, &p.algo,
                       workspace_.data(), kWorkspaceBytes, stream),
        int8 ? "cublasLtMatmul (int8)" : "cublasLtMatmul (fp8)");
}

}  // namespace sf::cuda
