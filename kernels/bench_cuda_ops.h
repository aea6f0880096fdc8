// bench_cuda_ops.h: per-operation timings of the CUDA encoder (part of bench_cuda).
#pragma once

namespace sf::cuda {

// Times each device operation of one encoder layer (the four SGEMMs as the backend
// issues them, attention, the fused element-wise kernels) plus embedding and pooling,
// on random data shaped like MiniLM-L6 for `batch` sequences of `len` tokens, and
// prints one table: ms per call, the rate reached, and the share of a whole forward
// pass. Throws sf::model::BackendError on a CUDA failure.
void print_op_breakdown(int device, int batch, int len);

}  // namespace sf::cuda
