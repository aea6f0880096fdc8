// device_scope.cuh: makes one CUDA device current for a scope (RAII).
//
// What it does: DeviceScope(d) selects device d if it is not current already
// and restores the caller's device when the scope ends, so a backend bound to
// one GPU can be called from any thread.
// Promises: the destructor never throws.
// Failure: the constructor throws sf::model::BackendError when the device
// cannot be selected.
#pragma once

#include <cuda_runtime.h>

#include "kernels/cuda_check.cuh"

namespace sf::cuda {

class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  ~DeviceScope() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }

 private:
  int previous_ = -1;
};

}  // namespace sf::cuda
