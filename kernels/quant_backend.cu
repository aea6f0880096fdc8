// quant_backend.cu: the "cuda-int8" / "cuda-fp8" Backend (see quant_backend.h).
//
// What it does: load() checks the model (same rules as the fp32 backends), quantizes
// the linear weights on the host (query, key and value stacked into one [3H, H] matrix
// per layer) and uploads everything into one device allocation. A call validates the
// batch on the host, splits it into chunks (options.chunk_tokens), stages each chunk's
// [dims | offsets | tokens] block in pinned memory and, per chunk, copies it with one
// async copy, runs the encoder (replaying the graph of its bucket where one applies,
// else launching directly) and copies the chunk's logits or pooled vectors back
// asynchronously; one synchronisation per call.
// Graphs: a chunk of T tokens and S sequences whose token bucket B (graph_token_bucket)
// is at most graph_max_tokens runs as if it had B rows and S' = 2^ceil(log2 S)
// sequences: the staged offsets past S repeat T (empty sequences, skipped by every
// kernel), the token ids past T are 0, and dims (device memory) hold the real T and S,
// so rows past T are zero rows that the products multiply harmlessly. The first chunk
// of a bucket runs directly (loading kernels, making the cuBLASLt plans) and is then
// captured; later ones replay. Growing any device buffer drops every graph.
// Promises: as quant_backend.h. Calls on one backend are serialised by a mutex; each
// call selects the backend's device and restores the caller's.
// Failure: as quant_backend.h. A failed call leaves the backend usable for the next one
// unless the device itself faulted (then the CUDA context is lost: drop the backend).
#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda_backend.h"
#include "kernels/cuda_check.cuh"
#include "kernels/device_buffer.cuh"
#include "kernels/device_scope.cuh"
#include "kernels/lt_gemm.cuh"
#include "kernels/ops.cuh"
#include "kernels/quant_backend.h"
#include "kernels/quant_ops.cuh"

namespace sf::cuda {
namespace {

using sf::model::Backend;
using sf::model::BackendError;
using sf::model::Batch;
using sf::model::Capabilities;
using sf::model::Config;
using sf::model::Model;
using sf::model::ModelError;
using sf::model::Tensor;

constexpr const char* kInt8Scheme = "int8-per-channel";

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

const Tensor& find_tensor(const Model& m, const std::string& name,
                          const std::vector<int64_t>& shape) {
  auto it = m.tensors.find(name);
  if (it == m.tensors.end())
    throw ModelError("cuda quantized backend: model has no tensor " + name);
  const Tensor& t = it->second;
  if (t.shape != shape || t.data.size() != static_cast<size_t>(t.numel())) {
    throw ModelError("cuda quantized backend: tensor " + name + " has shape " + shape_str(t.shape) +
                     ", expected " + shape_str(shape));
  }
  return t;
}

// Host image of the device weights: segments start at 256-byte boundaries.
class HostBlob {
 public:
  size_t put(const void* data, size_t bytes) {
    const size_t at = (bytes_.size() + 255) / 256 * 256;
    bytes_.resize(at + bytes);
    if (bytes > 0) std::memcpy(bytes_.data() + at, data, bytes);
    return at;
  }
  size_t put_floats(const std::vector<float>& v) { return put(v.data(), v.size() * sizeof(float)); }
  const std::vector<unsigned char>& bytes() const { return bytes_; }

 private:
  std::vector<unsigned char> bytes_;
};

// Per-output-channel symmetric quantization of a row-major [out, in] matrix, appended
// to q (one byte per weight) and scales.
void quantize_weight(const Tensor& w, const Tensor* given, QuantFormat format,
                     const std::string& name, std::vector<unsigned char>& q,
                     std::vector<float>& scales) {
  const int64_t out = w.shape[0], in = w.shape[1];
  const float qmax = format == QuantFormat::kInt8 ? 127.0f : 448.0f;
  if (given != nullptr && given->data.size() != static_cast<size_t>(out)) {
    throw ModelError("cuda quantized backend: tensor " + name + ".scale has " +
                     std::to_string(given->data.size()) + " values, expected " +
                     std::to_string(out) + " (one per output channel)");
  }
  for (int64_t r = 0; r < out; ++r) {
    const float* row = w.data.data() + r * in;
    float scale;
    if (given != nullptr) {
      scale = given->data[static_cast<size_t>(r)];
      if (!(scale > 0.0f) || !std::isfinite(scale)) {
        throw ModelError("cuda quantized backend: " + name + ".scale[" + std::to_string(r) +
                         "] is not a positive finite number");
      }
    } else {
      float amax = 0.0f;
      for (int64_t c = 0; c < in; ++c) amax = std::max(amax, std::fabs(row[c]));
      scale = amax > 0.0f ? amax / qmax : 1.0f;
    }
    scales.push_back(scale);
    const float inv = 1.0f / scale;
    for (int64_t c = 0; c < in; ++c) {
      const float v = row[c] * inv;
      if (format == QuantFormat::kInt8) {
        const float r8 = std::nearbyint(std::clamp(v, -127.0f, 127.0f));
        q.push_back(static_cast<unsigned char>(static_cast<int8_t>(r8)));
      } else {
        q.push_back(__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3));
      }
    }
  }
}

struct LayerWeights {
  const void* qkv_w;   // [3H, H] quantized; query, key, value rows stacked
  const float* qkv_s;  // [3H] channel scales
  const float* qkv_b;
  const void* o_w;
  const float* o_s;
  const float* o_b;
  const float* ln1_g;
  const float* ln1_b;
  const void* i_w;
  const float* i_s;
  const float* i_b;
  const void* o2_w;
  const float* o2_s;
  const float* o2_b;
  const float* ln2_g;
  const float* ln2_b;
};

// What one run of the encoder covers (see the header comment on graphs).
struct Launch {
  int rows = 0;     // rows of every activation matrix (>= the chunk's tokens)
  int nseq = 0;     // sequences covered (>= the chunk's sequences)
  int max_len = 0;  // upper bound of the sequence lengths (attention grid)
  bool graph = false;
  size_t block_ints() const { return 2 + static_cast<size_t>(nseq) + 1 + rows; }
};

struct Chunk {
  size_t seq_begin, seq_end;  // sequences [seq_begin, seq_end) of the batch
  int max_len;
  Launch launch;
  size_t stage_at;  // offset of its block in the pinned staging buffer (ints)
};

int next_pow2(int v) {
  int p = 1;
  while (p < v) p *= 2;
  return p;
}

class QuantBackend final : public Backend {
 public:
  QuantBackend(int device, const QuantOptions& o) : device_(device), opt_(o) {
    int count = 0;
    check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    if (device < 0 || device >= count) {
      throw BackendError("cuda: no device " + std::to_string(device) + " (" +
                         std::to_string(count) + " visible)");
    }
    DeviceScope scope(device_);
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
    device_name_ = prop.name;
    smem_optin_ = prop.sharedMemPerBlockOptin;
    if (prop.major < 9 && opt_.format == QuantFormat::kFp8) {
      throw BackendError("cuda: fp8 products need compute capability 8.9 or newer; " +
                         device_name_ + " has " + std::to_string(prop.major) + "." +
                         std::to_string(prop.minor));
    }
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    try {
      gemm_.init();
    } catch (...) {
      cudaStreamDestroy(stream_);
      throw;
    }
  }

  ~QuantBackend() override {
    if (cudaSetDevice(device_) != cudaSuccess) return;
    cudaStreamSynchronize(stream_);
    drop_graphs();
    gemm_.clear_plans();
    for (cudaEvent_t e : marks_) cudaEventDestroy(e);
    cudaStreamDestroy(stream_);
  }

  Capabilities capabilities() const override {
    Capabilities c;
    c.name = int8() ? "cuda-int8" : "cuda-fp8";
    c.device = device_name_;
    c.max_batch = 0;
    c.max_sequence = loaded_ ? config_.max_positions : 512;
    c.int8 = int8();
    return c;
  }

  QuantStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

  void load(const Model& m) override {
    std::lock_guard lock(mu_);
    DeviceScope scope(device_);
    const Config& c = m.config;
    check_config(c);
    loaded_ = false;
    cudaStreamSynchronize(stream_);
    drop_graphs();

    const bool file_scales = int8() && c.quantization == kInt8Scheme;
    const int64_t h = c.hidden, in = c.intermediate;
    HostBlob blob;
    auto floats = [&](const std::string& name, const std::vector<int64_t>& shape,
                      int64_t rows = 0) {
      const Tensor& t = find_tensor(m, name, shape);
      size_t count = t.data.size();
      if (rows > 0) count = static_cast<size_t>(rows) * (count / static_cast<size_t>(shape[0]));
      return blob.put(t.data.data(), count * sizeof(float));
    };
    // Quantized matrix of the stacked tensors; returns (weights, scales) offsets.
    auto matrix = [&](const std::vector<std::string>& names, const std::vector<int64_t>& shape) {
      std::vector<unsigned char> q;
      std::vector<float> scales;
      for (const std::string& name : names) {
        const Tensor& w = find_tensor(m, name, shape);
        const Tensor* given = nullptr;
        if (file_scales) {
          auto it = m.tensors.find(name + ".scale");
          if (it == m.tensors.end()) {
            throw ModelError("cuda quantized backend: quant.scheme is \"" +
                             std::string(kInt8Scheme) + "\" but the model has no tensor " + name +
                             ".scale");
          }
          given = &it->second;
        }
        quantize_weight(w, given, opt_.format, name, q, scales);
      }
      return std::pair{blob.put(q.data(), q.size()), blob.put_floats(scales)};
    };
    auto stacked = [&](const std::vector<std::string>& names, const std::vector<int64_t>& shape) {
      std::vector<float> all;
      for (const std::string& name : names) {
        const Tensor& t = find_tensor(m, name, shape);
        all.insert(all.end(), t.data.begin(), t.data.end());
      }
      return blob.put_floats(all);
    };

    const size_t word = floats("embeddings.word_embeddings.weight", {c.vocab_size, h});
    const size_t pos = floats("embeddings.position_embeddings.weight", {c.max_positions, h});
    const size_t type0 =
        floats("embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}, 1);
    const size_t emb_g = floats("embeddings.LayerNorm.weight", {h});
    const size_t emb_b = floats("embeddings.LayerNorm.bias", {h});
    struct Offsets {
      std::pair<size_t, size_t> qkv, o, i, o2;
      size_t qkv_b, o_b, ln1_g, ln1_b, i_b, o2_b, ln2_g, ln2_b;
    };
    std::vector<Offsets> off(static_cast<size_t>(c.layers));
    for (int l = 0; l < c.layers; ++l) {
      auto name = [&](const std::string& suffix) { return sf::model::layer_tensor(l, suffix); };
      auto qkv_names = [&](const std::string& kind) {
        return std::vector<std::string>{name("attention.self.query." + kind),
                                        name("attention.self.key." + kind),
                                        name("attention.self.value." + kind)};
      };
      Offsets& s = off[static_cast<size_t>(l)];
      s.qkv = matrix(qkv_names("weight"), {h, h});
      s.qkv_b = stacked(qkv_names("bias"), {h});
      s.o = matrix({name("attention.output.dense.weight")}, {h, h});
      s.o_b = floats(name("attention.output.dense.bias"), {h});
      s.ln1_g = floats(name("attention.output.LayerNorm.weight"), {h});
      s.ln1_b = floats(name("attention.output.LayerNorm.bias"), {h});
      s.i = matrix({name("intermediate.dense.weight")}, {in, h});
      s.i_b = floats(name("intermediate.dense.bias"), {in});
      s.o2 = matrix({name("output.dense.weight")}, {h, in});
      s.o2_b = floats(name("output.dense.bias"), {h});
      s.ln2_g = floats(name("output.LayerNorm.weight"), {h});
      s.ln2_b = floats(name("output.LayerNorm.bias"), {h});
    }
    const size_t head_w = floats("classifier.weight", {c.num_labels, h});
    const size_t head_b = floats("classifier.bias", {c.num_labels});

    weights_.release();
    weights_.allocate(blob.bytes().size());
    check(cudaMemcpyAsync(weights_.data(), blob.bytes().data(), blob.bytes().size(),
                          cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync (weights)");
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (weights)");
    const unsigned char* base = weights_.data();
    auto f = [base](size_t at) { return reinterpret_cast<const float*>(base + at); };
    word_ = f(word);
    pos_ = f(pos);
    type0_ = f(type0);
    emb_g_ = f(emb_g);
    emb_b_ = f(emb_b);
    layers_.clear();
    for (const Offsets& s : off) {
      layers_.push_back({base + s.qkv.first, f(s.qkv.second), f(s.qkv_b), base + s.o.first,
                         f(s.o.second), f(s.o_b), f(s.ln1_g), f(s.ln1_b), base + s.i.first,
                         f(s.i.second), f(s.i_b), base + s.o2.first, f(s.o2.second), f(s.o2_b),
                         f(s.ln2_g), f(s.ln2_b)});
    }
    head_w_ = f(head_w);
    head_b_ = f(head_b);
    const int hd = c.hidden / c.heads;
    mma_ = opt_.tensor_core_attention && attention_mma_supported(hd) &&
           attention_mma_smem(c.max_positions, hd) <= smem_optin_;
    if (mma_) attention_mma_prepare(c.max_positions, hd);
    config_ = c;
    loaded_ = true;
  }

  void encode(const Batch& batch, std::span<float> logits) override {
    std::lock_guard lock(mu_);
    require_loaded();
    const size_t need = batch.size() * static_cast<size_t>(config_.num_labels);
    if (logits.size() != need) {
      throw BackendError("cuda: encode(): output has " + std::to_string(logits.size()) +
                         " floats, the batch needs " + std::to_string(need));
    }
    run(batch, logits, /*want_pooled=*/false);
  }

  void pooled(const Batch& batch, std::span<float> out) override {
    std::lock_guard lock(mu_);
    require_loaded();
    const size_t need = batch.size() * static_cast<size_t>(config_.hidden);
    if (out.size() != need) {
      throw BackendError("cuda: pooled(): output has " + std::to_string(out.size()) +
                         " floats, the batch needs " + std::to_string(need));
    }
    run(batch, out, /*want_pooled=*/true);
  }

 private:
  bool int8() const { return opt_.format == QuantFormat::kInt8; }

  void check_config(const Config& c) const {
    if (c.layers < 1 || c.hidden < 1 || c.heads < 1 || c.hidden % c.heads != 0 ||
        c.intermediate < 1 || c.max_positions < 1 || c.vocab_size < 1 || c.type_vocab_size < 1 ||
        c.num_labels < 1) {
      throw ModelError("cuda quantized backend: inconsistent architecture (hidden " +
                       std::to_string(c.hidden) + ", heads " + std::to_string(c.heads) +
                       ", layers " + std::to_string(c.layers) + ")");
    }
    if (c.activation != "gelu") {
      throw ModelError("cuda quantized backend: activation \"" + c.activation +
                       "\" is not implemented (only exact \"gelu\")");
    }
    if (c.pooling != "mean" && c.pooling != "cls") {
      throw ModelError("cuda quantized backend: pooling \"" + c.pooling +
                       "\" is not implemented (\"mean\" or \"cls\")");
    }
    const int multiple = int8() ? 4 : 16;
    for (auto [what, v] :
         {std::pair{"hidden", c.hidden}, std::pair{"intermediate", c.intermediate}}) {
      if (v % multiple != 0 || v > kMaxQuantCols) {
        throw ModelError(std::string("cuda quantized backend: ") + what + " size " +
                         std::to_string(v) + " must be a multiple of " + std::to_string(multiple) +
                         " up to " + std::to_string(kMaxQuantCols));
      }
    }
    if (c.hidden / c.heads > kMaxHeadDim) {
      throw ModelError("cuda quantized backend: head dimension " +
                       std::to_string(c.hidden / c.heads) + " above the supported " +
                       std::to_string(kMaxHeadDim));
    }
    if (!(c.layer_norm_eps >= 0.0f))
      throw ModelError("cuda quantized backend: negative layer_norm_eps");
    if (c.quantization != "none" && c.quantization != kInt8Scheme) {
      throw ModelError("cuda quantized backend: quant.scheme \"" + c.quantization +
                       "\" is not supported (\"none\" or \"" + kInt8Scheme + "\")");
    }
  }

  void require_loaded() const {
    if (!loaded_) throw BackendError("cuda quantized backend: encode() called before load()");
  }

  // Throws BackendError naming the first problem; returns the longest sequence.
  int validate(const Batch& batch) const { return sf::model::validate_batch(batch, config_); }

  std::vector<Chunk> split(const Batch& batch) const {
    std::vector<Chunk> chunks;
    const size_t n = batch.size();
    size_t s = 0;
    size_t stage = 0;
    while (s < n) {
      Chunk ch{s, s, 0, {}, 0};
      int64_t tokens = 0;
      while (ch.seq_end < n) {
        const int len = batch.length(ch.seq_end);
        if (opt_.chunk_tokens > 0 && ch.seq_end > s && tokens + len > opt_.chunk_tokens) break;
        tokens += len;
        ch.max_len = std::max(ch.max_len, len);
        ++ch.seq_end;
      }
      const int t = static_cast<int>(tokens);
      const int nseq = static_cast<int>(ch.seq_end - ch.seq_begin);
      const int bucket = graph_token_bucket(t);
      Launch& l = ch.launch;
      if (opt_.graphs && bucket <= opt_.graph_max_tokens) {
        l = {bucket, next_pow2(nseq), std::min(bucket, config_.max_positions), true};
      } else {
        l = {(t + 15) / 16 * 16, nseq, ch.max_len, false};  // 16-row multiples for the products
      }
      ch.stage_at = stage;
      stage += l.block_ints();
      chunks.push_back(ch);
      s = ch.seq_end;
    }
    return chunks;
  }

  // Grows the activation buffers; true when any device address changed (graphs are then
  // stale).
  bool reserve(int rows, int nseq) {
    const Config& c = config_;
    const size_t r = static_cast<size_t>(rows), h = c.hidden, in = c.intermediate;
    const size_t wide = std::max(3 * h, in);
    const void* before[] = {ids_.data(), x_.data(),      xq_.data(),    xs_.data(), acc_.data(),
                            ctx_.data(), qkvf_.data(),   cq_.data(),    cs_.data(), iq_.data(),
                            is_.data(),  pooled_.data(), logits_.data()};
    ids_.reserve(2 + static_cast<size_t>(nseq) + 1 + r);
    x_.reserve(r * h);
    xq_.reserve(r * h);
    xs_.reserve(r);
    acc_.reserve(r * wide * 4);
    ctx_.reserve(r * h * sizeof(float));
    if (!mma_attention()) qkvf_.reserve(r * 3 * h);
    cq_.reserve(r * h);
    cs_.reserve(r);
    iq_.reserve(r * in);
    is_.reserve(r);
    pooled_.reserve(static_cast<size_t>(nseq) * h);
    logits_.reserve(static_cast<size_t>(nseq) * c.num_labels);
    const void* after[] = {ids_.data(), x_.data(),      xq_.data(),    xs_.data(), acc_.data(),
                           ctx_.data(), qkvf_.data(),   cq_.data(),    cs_.data(), iq_.data(),
                           is_.data(),  pooled_.data(), logits_.data()};
    return !std::equal(std::begin(before), std::end(before), std::begin(after));
  }

  // Tensor-core attention: head dim 16, 32 or 64 and the whole longest sequence's keys
  // and values fit in one block's shared memory (else the fp32 kernel runs).
  bool mma_attention() const { return mma_; }

  void drop_graphs() noexcept {
    for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
    graphs_.clear();
  }

  void run(const Batch& batch, std::span<float> result, bool want_pooled) {
    validate(batch);
    if (batch.size() == 0) return;
    DeviceScope scope(device_);
    try {
      run_chunks(batch, result, want_pooled);
    } catch (...) {
      cudaStreamSynchronize(stream_);  // nothing may still read the staging buffers
      throw;
    }
  }

  void run_chunks(const Batch& batch, std::span<float> result, bool want_pooled) {
    const std::vector<Chunk> chunks = split(batch);
    marks_used_ = 0;
    int rows = 0, nseq = 0;
    size_t stage = 0;
    for (const Chunk& ch : chunks) {
      rows = std::max(rows, ch.launch.rows);
      nseq = std::max(nseq, ch.launch.nseq);
      stage = ch.stage_at + ch.launch.block_ints();
    }
    if (reserve(rows, nseq)) drop_graphs();
    const size_t width = want_pooled ? config_.hidden : config_.num_labels;
    stage_.reserve(stage);
    host_out_.reserve(batch.size() * width);

    // Stage every chunk first: the pinned blocks must not change while copies are queued.
    for (const Chunk& ch : chunks) {
      int32_t* block = stage_.data() + ch.stage_at;
      const int32_t first = batch.offsets[ch.seq_begin];
      const int32_t tokens = batch.offsets[ch.seq_end] - first;
      const int real = static_cast<int>(ch.seq_end - ch.seq_begin);
      const Launch& l = ch.launch;
      block[0] = tokens;
      block[1] = real;
      int32_t* offsets = block + 2;
      for (int i = 0; i <= l.nseq; ++i) {
        offsets[i] =
            i <= real ? batch.offsets[ch.seq_begin + static_cast<size_t>(i)] - first : tokens;
      }
      int32_t* ids = offsets + l.nseq + 1;
      std::memcpy(ids, batch.tokens.data() + first, static_cast<size_t>(tokens) * sizeof(int32_t));
      std::fill(ids + tokens, ids + l.rows, 0);
    }

    for (const Chunk& ch : chunks) {
      const Launch& l = ch.launch;
      check(cudaMemcpyAsync(ids_.data(), stage_.data() + ch.stage_at,
                            l.block_ints() * sizeof(int32_t), cudaMemcpyHostToDevice, stream_),
            "cudaMemcpyAsync (tokens)");
      if (l.graph) {
        const auto key = std::pair{l.rows, l.nseq};
        if (auto it = graphs_.find(key); it != graphs_.end()) {
          check(cudaGraphLaunch(it->second, stream_), "cudaGraphLaunch");
          ++stats_.graph_replays;
        } else {
          forward(l);
          ++stats_.direct_runs;
          capture(l);
        }
      } else {
        profiling_ = opt_.profile_ops;
        forward(l);
        profiling_ = false;
        ++stats_.direct_runs;
      }
      const size_t count = (ch.seq_end - ch.seq_begin) * width;
      check(cudaMemcpyAsync(host_out_.data() + ch.seq_begin * width,
                            want_pooled ? pooled_.data() : logits_.data(), count * sizeof(float),
                            cudaMemcpyDeviceToHost, stream_),
            "cudaMemcpyAsync (results)");
    }
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (encode)");
    std::memcpy(result.data(), host_out_.data(), result.size() * sizeof(float));
    if (marks_used_ > 0) collect_marks();
  }

  // Records a CUDA event after the operation `name` (profile_ops, direct runs only).
  void mark(const char* name) {
    if (!profiling_) return;
    if (marks_used_ == marks_.size()) {
      cudaEvent_t e = nullptr;
      check(cudaEventCreate(&e), "cudaEventCreate");
      marks_.push_back(e);
      mark_names_.push_back(nullptr);
    }
    check(cudaEventRecord(marks_[marks_used_], stream_), "cudaEventRecord");
    mark_names_[marks_used_++] = name;
  }

  // Adds the time between consecutive marks to the stats, by operation name.
  void collect_marks() {
    for (size_t i = 1; i < marks_used_; ++i) {
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, marks_[i - 1], marks_[i]), "cudaEventElapsedTime");
      const bool gap = std::strcmp(mark_names_[i], "begin") == 0;
      stats_.op_ms[gap ? "transfers" : mark_names_[i]] += ms;
      if (gap) ++stats_.profiled_runs;
    }
    ++stats_.profiled_runs;
    marks_used_ = 0;
  }

  void capture(const Launch& l) {
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture");
    cudaGraph_t graph = nullptr;
    try {
      forward(l);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph != nullptr) cudaGraphDestroy(graph);
      throw;
    }
    check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t st = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    check(st, "cudaGraphInstantiate");
    graphs_.emplace(std::pair{l.rows, l.nseq}, exec);
    ++stats_.graphs_captured;
  }

  void forward(const Launch& l) {
    if (int8()) {
      forward_as<int8_t>(l);
    } else {
      forward_as<__nv_fp8_e4m3>(l);
    }
  }

  template <typename Q>
  void forward_as(const Launch& l) {
    using Acc = typename QuantTraits<Q>::Acc;
    const Config& c = config_;
    const int H = c.hidden, I = c.intermediate, R = l.rows, heads = c.heads;
    const int hd = H / heads;
    const float eps = c.layer_norm_eps;
    const GemmType gt = int8() ? GemmType::kInt8 : GemmType::kFp8;
    const int32_t* dims = ids_.data();
    const int32_t* offsets = dims + 2;
    const int32_t* tokens = offsets + l.nseq + 1;
    float* x = x_.data();
    Q* xq = reinterpret_cast<Q*>(xq_.data());
    float* xs = xs_.data();
    Acc* acc = reinterpret_cast<Acc*>(acc_.data());
    Q* cq = reinterpret_cast<Q*>(cq_.data());
    float* cs = cs_.data();
    Q* iq = reinterpret_cast<Q*>(iq_.data());
    float* is = is_.data();
    const bool mma = mma_attention();

    mark("begin");
    embed_layernorm_quant<Q>(tokens, offsets, dims, R, word_, pos_, type0_, emb_g_, emb_b_, H, eps,
                             x, xq, xs, stream_);
    mark("embedding+layernorm+quantize");
    for (const LayerWeights& w : layers_) {
      gemm_.run(gt, w.qkv_w, xq, acc, R, 3 * H, H, stream_);
      mark("product qkv");
      if (mma) {
        __half* ctx = reinterpret_cast<__half*>(ctx_.data());
        attention_mma<Acc>(acc, xs, w.qkv_s, w.qkv_b, offsets, l.nseq, l.max_len, heads, hd, ctx,
                           stream_);
        mark("attention (tensor cores)");
        quantize_rows<Q, __half>(ctx, dims, R, H, cq, cs, stream_);
        mark("quantize attention output");
      } else {
        float* ctx = reinterpret_cast<float*>(ctx_.data());
        dequantize_rows<Acc>(acc, xs, w.qkv_s, dims, R, 3 * H, qkvf_.data(), stream_);
        attention(qkvf_.data(), w.qkv_b, offsets, l.nseq, l.max_len, heads, hd, ctx, stream_);
        mark("attention (fp32, with dequantize)");
        quantize_rows<Q, float>(ctx, dims, R, H, cq, cs, stream_);
        mark("quantize attention output");
      }
      gemm_.run(gt, w.o_w, cq, acc, R, H, H, stream_);
      mark("product attention-out");
      residual_layernorm_quant<Q>(acc, cs, w.o_s, w.o_b, x, w.ln1_g, w.ln1_b, dims, R, H, eps, xq,
                                  xs, stream_);
      mark("residual+layernorm+quantize");
      gemm_.run(gt, w.i_w, xq, acc, R, I, H, stream_);
      mark("product ffn-in");
      gelu_quant<Q>(acc, xs, w.i_s, w.i_b, dims, R, I, iq, is, stream_);
      mark("bias+gelu+quantize");
      gemm_.run(gt, w.o2_w, iq, acc, R, H, I, stream_);
      mark("product ffn-out");
      residual_layernorm_quant<Q>(acc, is, w.o2_s, w.o2_b, x, w.ln2_g, w.ln2_b, dims, R, H, eps, xq,
                                  xs, stream_);
      mark("residual+layernorm+quantize");
    }
    pool_head(x, offsets, l.nseq, H, c.pooling == "mean", head_w_, head_b_, c.num_labels,
              pooled_.data(), logits_.data(), stream_);
    mark("pooling+head");
  }

  const int device_;
  const QuantOptions opt_;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  LtGemm gemm_;
  mutable std::mutex mu_;
  QuantStats stats_;

  size_t smem_optin_ = 0;
  bool mma_ = false;
  bool loaded_ = false;
  Config config_;
  DeviceBuffer<unsigned char> weights_;
  const float* word_ = nullptr;
  const float* pos_ = nullptr;
  const float* type0_ = nullptr;
  const float* emb_g_ = nullptr;
  const float* emb_b_ = nullptr;
  std::vector<LayerWeights> layers_;
  const float* head_w_ = nullptr;
  const float* head_b_ = nullptr;

  // Activations (grown to the largest launch seen; see reserve()).
  DeviceBuffer<int32_t> ids_;                 // dims (tokens, sequences), offsets, token ids
  DeviceBuffer<float> x_;                     // residual stream, fp32
  DeviceBuffer<unsigned char> xq_, cq_, iq_;  // quantized inputs of the products
  DeviceBuffer<float> xs_, cs_, is_;          // their per-token scales
  DeviceBuffer<unsigned char> acc_;           // raw product accumulators (int32 / fp32)
  DeviceBuffer<unsigned char> ctx_;           // attention output (fp16, or fp32 fallback)
  DeviceBuffer<float> qkvf_;                  // dequantized QKV (fp32 attention only)
  DeviceBuffer<float> pooled_, logits_;
  PinnedBuffer<int32_t> stage_;
  PinnedBuffer<float> host_out_;
  std::map<std::pair<int, int>, cudaGraphExec_t> graphs_;
  bool profiling_ = false;
  std::vector<cudaEvent_t> marks_;
  std::vector<const char*> mark_names_;
  size_t marks_used_ = 0;
};

}  // namespace

int graph_token_bucket(int tokens) {
  int b = 64;
  while (b < tokens) {
    // 64, 96, 128, 192, 256, 384, ...: 2^k and 3 * 2^(k - 1)
    b = (b & (b - 1)) == 0 ? b / 2 * 3 : b / 3 * 4;
  }
  return b;
}

std::unique_ptr<Backend> make_cuda_quant_backend(int device, const QuantOptions& options) {
  return std::make_unique<QuantBackend>(device, options);
}

std::vector<std::unique_ptr<Backend>> make_cuda_replicas(const std::string& name,
                                                         QuantOptions options) {
  if (name != "cuda-int8" && name != "cuda-fp8" && name != "cuda-fp32") {
    throw BackendError("unknown CUDA backend '" + name +
                       "' (expected cuda-int8, cuda-fp8 or cuda-fp32)");
  }
  options.format = name == "cuda-fp8" ? QuantFormat::kFp8 : QuantFormat::kInt8;
  std::vector<std::unique_ptr<Backend>> out;
  const int n = device_count();
  for (int d = 0; d < n; ++d) {
    if (name == "cuda-fp32") {
      out.push_back(make_cuda_backend(d));
    } else {
      out.push_back(make_cuda_quant_backend(d, options));
    }
  }
  return out;
}

QuantStats quant_stats(const Backend& b) {
  const auto* q = dynamic_cast<const QuantBackend*>(&b);
  if (q == nullptr) throw std::invalid_argument("quant_stats: not a quantized CUDA backend");
  return q->stats();
}

}  // namespace sf::cuda
