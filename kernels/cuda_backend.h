// cuda_backend.h: the CUDA inference backend (fp32, TF32 off), as plain C++.
//
// What it does: runs the encoder of model/model.h on one NVIDIA GPU through
// the Backend interface of model/backend.h. Weights are uploaded once in
// load(); each encode()/pooled() call takes a packed, padding-free Batch,
// runs every linear layer as one cuBLAS SGEMM over all tokens of the batch
// and the rest (embedding + LayerNorm, bias + GELU, bias + residual +
// LayerNorm, variable-length attention, pooling + head) as its own kernels,
// on one stream per backend.
// Promises: results match the CPU reference (make_cpu_backend) to fp32
// rounding (no TF32, no fp16); a sequence's result does not depend on the
// other sequences of its batch. This header names no CUDA type, so code that
// only selects a backend builds without the CUDA headers.
// Failure: device_count() never throws (0 without a driver or GPU).
// make_cuda_backend() and every Backend call throw sf::model::BackendError
// naming the failing CUDA/cuBLAS call (no such device, out of memory, driver
// error); a malformed batch (bad offsets, token id out of range, sequence
// longer than the model's positions) is the caller's bug and throws
// BackendError before anything runs on the device. After a device fault
// (e.g. an illegal address) the CUDA context is unusable: drop the backend.
// A backend object serialises its own calls (one stream); use one backend
// per thread for parallelism.
#pragma once

#include <memory>

#include "model/backend.h"

namespace sf::cuda {

// Number of CUDA devices visible to this process; 0 when there is no driver,
// no GPU, or the runtime cannot start. Never throws.
int device_count();

// A backend on GPU `device` (0-based). Throws sf::model::BackendError when the
// device cannot be used.
std::unique_ptr<sf::model::Backend> make_cuda_backend(int device = 0);

}  // namespace sf::cuda
