// quant_backend.h: the quantized CUDA inference backends ("cuda-int8", "cuda-fp8"), and
// the factory that makes one backend replica per visible GPU.
//
// What it does: runs the encoder of model/model.h on one NVIDIA GPU (Hopper: sm_90a)
// through the Backend interface of model/backend.h. load() quantizes the fp32 weights of
// every linear layer per output channel (symmetric: q = round(w / s), s = max |w| / qmax,
// int8 or fp8 e4m3), or, for int8, takes the scales the model file carries
// (metadata quant.scheme = "int8-per-channel", tensors "<weight name>.scale" of
// [out_features] floats). encode() quantizes activations per token on the fly (fused
// into the LayerNorm / GELU kernels that produce them), runs the products on tensor
// cores through cuBLASLt (int8 x int8 -> int32, or e4m3 x e4m3 -> fp32), dequantizes in
// its own fused epilogues (token scale x channel scale, + bias, + GELU or + residual +
// LayerNorm + the next quantization), and runs attention on tensor cores (fp16
// operands, fp32 softmax) for head dims 16, 32 and 64 (the fp32 kernel of the
// "cuda-fp32" backend otherwise). Embeddings, LayerNorms, the residual stream,
// pooling and the head stay fp32. Batches are packed without padding; small ones
// (up to graph_max_tokens tokens) replay a CUDA graph captured per bucket of (tokens,
// sequences), larger ones run their kernels directly.
// Promises: a sequence's result does not depend on the other sequences of its batch,
// nor on whether a graph, a chunk or a plain launch ran it (bitwise, for int8: integer
// products are exact). Accuracy against the fp32 CPU reference is what
// tests/test_cuda_int8.cpp states and docs/gpu.md records. The header names no CUDA
// type.
// Failure: as the "cuda-fp32" backend (cuda_backend.h): BackendError naming the failing
// CUDA / cuBLASLt call or the bad batch (the caller's fault); ModelError from load() when
// the model does not fit (hidden or intermediate size not a multiple of 4, of 16 for
// fp8, above 3072; head dim above 64; unknown quant.scheme; a missing or non-positive
// "<name>.scale" under "int8-per-channel": the model file's fault).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/backend.h"

namespace sf::cuda {

enum class QuantFormat { kInt8, kFp8 };

struct QuantOptions {
  QuantFormat format = QuantFormat::kInt8;
  bool graphs = true;                 // replay CUDA graphs for small batches
  int graph_max_tokens = 8192;        // largest token bucket that gets a graph
  int chunk_tokens = 0;               // > 0: run larger batches as sub-batches of whole sequences
                                      // of at most this many tokens each (slower on an
                                      // H200, see kernels/NOTES.md)
  bool tensor_core_attention = true;  // false: the fp32 attention kernel for every head dim
  bool profile_ops = false;           // time every operation of directly launched runs with CUDA
                                      // events (adds a little time per op; graphs are not timed)
};

// A quantized backend on GPU `device`. Throws BackendError when the device is unusable.
std::unique_ptr<sf::model::Backend> make_cuda_quant_backend(int device = 0,
                                                            const QuantOptions& options = {});

// One backend per visible GPU, replica i on device i: `name` is "cuda-int8", "cuda-fp8" or
// "cuda-fp32" (options.format is set from the name). Empty when no GPU is visible.
// Throws BackendError for an unknown name or an unusable device.
std::vector<std::unique_ptr<sf::model::Backend>> make_cuda_replicas(const std::string& name,
                                                                    QuantOptions options = {});

// What a quantized backend has run so far (tests and benchmarks read it).
struct QuantStats {
  size_t graphs_captured = 0;
  size_t graph_replays = 0;  // chunks run by replaying a graph
  size_t direct_runs = 0;    // chunks run by launching kernels directly
  // With profile_ops: milliseconds per operation, summed over the profiled runs (all
  // layers), and how many runs that is. "transfers" is the time between runs of one call.
  std::map<std::string, double> op_ms;
  size_t profiled_runs = 0;
};
// Throws std::invalid_argument when `b` is not made by make_cuda_quant_backend().
QuantStats quant_stats(const sf::model::Backend& b);

// The token bucket a batch of `tokens` tokens is padded to for a graph: the smallest
// 2^k or 3 * 2^k not below it (and not below 64).
int graph_token_bucket(int tokens);

}  // namespace sf::cuda
