// cuda_check.cuh: turns CUDA runtime and cuBLAS status codes into exceptions.
//
// What it does: check(status, "what") throws sf::model::BackendError whose
// message names the failing call and the library's own description of the
// error; check_launch("kernel") does the same for the last kernel launch.
// Promises: never throws on success; the message always starts with "cuda:".
// Failure: every error is reported as BackendError (device or driver fault,
// out of memory, invalid launch configuration: the latter is a bug here).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "model/backend.h"

namespace sf::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  throw sf::model::BackendError(std::string("cuda: ") + what + " failed: " +
                                cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

inline void check(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw sf::model::BackendError(std::string("cuda: ") + what +
                                " failed: " + cublasGetStatusName(status) + " (" +
                                cublasGetStatusString(status) + ")");
}

// After a kernel launch: reports a bad launch configuration (or an earlier
// sticky error) without waiting for the kernel.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace sf::cuda
