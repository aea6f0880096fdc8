// device_buffer.cuh: growable device and pinned-host buffers (RAII).
//
// What it does: DeviceBuffer<T> owns a cudaMalloc'd array, PinnedBuffer<T> a
// cudaHostAlloc'd (page-locked) one, for async copies. reserve(n) grows the
// capacity to at least n elements (by at least half again, so a slowly
// growing batch size does not reallocate every call) and keeps it: buffers
// are reused across calls. Contents are not preserved when it grows.
// Promises: the destructor frees and never throws; a buffer is only grown
// between calls, after the stream that used it has been synchronised.
// Failure: reserve() throws sf::model::BackendError (out of device or pinned
// memory) and leaves the buffer empty but valid.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda_check.cuh"

namespace sf::cuda {

template <typename T, bool kPinned>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    Buffer(std::move(o)).swap(*this);
    return *this;
  }
  ~Buffer() { release(); }

  // Exactly n elements (used for the weights, which never grow).
  void allocate(size_t n) {
    release();
    if (n == 0) return;
    void* p = nullptr;
    if constexpr (kPinned) {
      check(cudaHostAlloc(&p, n * sizeof(T), cudaHostAllocDefault), "cudaHostAlloc");
    } else {
      check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    }
    data_ = static_cast<T*>(p);
    capacity_ = n;
  }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    size_t grown = capacity_ + capacity_ / 2;
    allocate(n > grown ? n : grown);
  }

  void release() noexcept {
    if (data_ != nullptr) {
      if constexpr (kPinned) {
        cudaFreeHost(data_);
      } else {
        cudaFree(data_);
      }
    }
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void swap(Buffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(capacity_, o.capacity_);
  }
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

template <typename T>
using DeviceBuffer = Buffer<T, false>;
template <typename T>
using PinnedBuffer = Buffer<T, true>;

}  // namespace sf::cuda
