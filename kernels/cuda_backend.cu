// cuda_backend.cu: the "cuda-fp32" Backend (see cuda_backend.h for the contract).
//
// What it does: load() checks the model's tensors (same rules as the CPU
// reference) and uploads them once into one device allocation, with query,
// key and value stacked into one [3 * hidden, hidden] matrix per layer. A call
// validates the batch on the host, stages offsets + tokens in pinned memory,
// copies them with one async copy, runs the encoder on the backend's stream
// (cuBLAS SGEMM for the linear layers, default math mode: no TF32; ops.cuh
// for the rest) and copies the logits or pooled vectors back through pinned
// memory. Activation buffers grow to the largest batch seen and are reused.
// Promises: no padding anywhere: every kernel and product covers exactly the
// batch's tokens. Calls on one backend are serialised by a mutex; each call
// selects the backend's device and restores the caller's.
// Failure: ModelError from load() when the model does not fit the encoder
// (the model file's fault); BackendError for bad batches and output spans
// (the caller's fault) and for every failing CUDA or cuBLAS call (named).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda_backend.h"
#include "kernels/cuda_check.cuh"
#include "kernels/device_buffer.cuh"
#include "kernels/device_scope.cuh"
#include "kernels/ops.cuh"

namespace sf::cuda {
namespace {

using sf::model::Backend;
using sf::model::BackendError;
using sf::model::Batch;
using sf::model::Capabilities;
using sf::model::Config;
using sf::model::Model;
using sf::model::ModelError;

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Weights on the device: one allocation, a pointer per tensor.
struct LayerWeights {
  const float* qkv_w;  // [3 * hidden, hidden]
  const float* qkv_b;  // [3 * hidden]
  const float* attn_out_w;
  const float* attn_out_b;
  const float* ln1_g;
  const float* ln1_b;
  const float* ffn_in_w;
  const float* ffn_in_b;
  const float* ffn_out_w;
  const float* ffn_out_b;
  const float* ln2_g;
  const float* ln2_b;
};

// Collects host tensors (checked against the shapes the config implies), then
// uploads them into one device allocation. A segment is one or more tensors back to
// back (query, key and value stack into one [3 * hidden, hidden] matrix).
class WeightPacker {
 public:
  explicit WeightPacker(const Model& m) : m_(m) {}

  // `rows` > 0: only the tensor's first `rows` rows (the token-type-0 embedding).
  size_t add(const std::string& name, const std::vector<int64_t>& shape, int64_t rows = 0) {
    return add_stacked({name}, shape, rows);
  }

  // The segment index of the named tensors, each of `shape`, stacked in order.
  size_t add_stacked(const std::vector<std::string>& names, const std::vector<int64_t>& shape,
                     int64_t rows = 0) {
    Segment seg{{}, total_, 0};
    for (const std::string& name : names) {
      const sf::model::Tensor& t = find(name, shape);
      size_t count = t.data.size();
      if (rows > 0) count = static_cast<size_t>(rows) * (count / static_cast<size_t>(shape[0]));
      seg.parts.push_back({t.data.data(), count});
      seg.count += count;
    }
    total_ += (seg.count + 63) / 64 * 64;  // 256-byte aligned starts
    segments_.push_back(std::move(seg));
    return segments_.size() - 1;
  }

  void upload(DeviceBuffer<float>& dst, cudaStream_t stream) {
    dst.allocate(total_);
    for (const Segment& s : segments_) {
      float* d = dst.data() + s.offset;
      for (const Part& p : s.parts) {
        check(cudaMemcpyAsync(d, p.host, p.count * sizeof(float), cudaMemcpyHostToDevice, stream),
              "cudaMemcpyAsync (weights)");
        d += p.count;
      }
    }
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (weights)");
    base_ = dst.data();
  }

  const float* at(size_t segment) const { return base_ + segments_[segment].offset; }

 private:
  struct Part {
    const float* host;
    size_t count;
  };
  struct Segment {
    std::vector<Part> parts;
    size_t offset;
    size_t count;
  };

  const sf::model::Tensor& find(const std::string& name, const std::vector<int64_t>& shape) {
    auto it = m_.tensors.find(name);
    if (it == m_.tensors.end()) throw ModelError("cuda backend: model has no tensor " + name);
    const sf::model::Tensor& t = it->second;
    if (t.shape != shape || t.data.size() != static_cast<size_t>(t.numel())) {
      throw ModelError("cuda backend: tensor " + name + " has shape " + shape_str(t.shape) +
                       ", expected " + shape_str(shape));
    }
    return t;
  }

  const Model& m_;
  std::vector<Segment> segments_;
  size_t total_ = 0;
  const float* base_ = nullptr;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
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
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    try {
      check(cublasCreate(&blas_), "cublasCreate");
      check(cublasSetStream(blas_, stream_), "cublasSetStream");
      // Plain fp32 SIMT products: no TF32 tensor-core path (CUBLAS_TF32_TENSOR_OP_MATH
      // is never set), so results agree with the CPU reference to fp32 rounding.
      check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
      if (blas_ != nullptr) cublasDestroy(blas_);
      cudaStreamDestroy(stream_);
      throw;
    }
  }

  ~CudaBackend() override {
    if (cudaSetDevice(device_) != cudaSuccess) return;
    cudaStreamSynchronize(stream_);
    weights_.release();
    ids_.release();
    x_.release();
    qkv_.release();
    ctx_.release();
    inter_.release();
    pooled_.release();
    logits_.release();
    host_ids_.release();
    host_out_.release();
    cublasDestroy(blas_);
    cudaStreamDestroy(stream_);
  }

  Capabilities capabilities() const override {
    Capabilities c;
    c.name = "cuda-fp32";
    c.device = device_name_;
    c.max_batch = 0;
    c.max_sequence = loaded_ ? config_.max_positions : 512;
    c.int8 = false;
    return c;
  }

  void load(const Model& m) override {
    std::lock_guard lock(mu_);
    DeviceScope scope(device_);
    const Config& c = m.config;
    if (c.layers < 1 || c.hidden < 1 || c.heads < 1 || c.hidden % c.heads != 0 ||
        c.intermediate < 1 || c.max_positions < 1 || c.vocab_size < 1 || c.type_vocab_size < 1 ||
        c.num_labels < 1) {
      throw ModelError("cuda backend: inconsistent architecture (hidden " +
                       std::to_string(c.hidden) + ", heads " + std::to_string(c.heads) +
                       ", layers " + std::to_string(c.layers) + ")");
    }
    if (c.activation != "gelu") {
      throw ModelError("cuda backend: activation \"" + c.activation +
                       "\" is not implemented (only exact \"gelu\")");
    }
    if (c.pooling != "mean" && c.pooling != "cls") {
      throw ModelError("cuda backend: pooling \"" + c.pooling +
                       "\" is not implemented (\"mean\" or \"cls\")");
    }
    if (c.hidden / c.heads > kMaxHeadDim || c.hidden > kMaxHidden) {
      throw ModelError("cuda backend: head dimension " + std::to_string(c.hidden / c.heads) +
                       " / hidden " + std::to_string(c.hidden) + " above the supported " +
                       std::to_string(kMaxHeadDim) + " / " + std::to_string(kMaxHidden));
    }
    if (!(c.layer_norm_eps >= 0.0f)) throw ModelError("cuda backend: negative layer_norm_eps");

    loaded_ = false;
    const int64_t h = c.hidden, in = c.intermediate;
    WeightPacker pack(m);
    const size_t word = pack.add("embeddings.word_embeddings.weight", {c.vocab_size, h});
    const size_t pos = pack.add("embeddings.position_embeddings.weight", {c.max_positions, h});
    const size_t type0 =
        pack.add("embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}, 1);
    const size_t emb_g = pack.add("embeddings.LayerNorm.weight", {h});
    const size_t emb_b = pack.add("embeddings.LayerNorm.bias", {h});
    struct LayerSegments {
      size_t qkv_w, qkv_b, o_w, o_b, ln1_g, ln1_b, i_w, i_b, o2_w, o2_b, ln2_g, ln2_b;
    };
    std::vector<LayerSegments> seg(static_cast<size_t>(c.layers));
    for (int l = 0; l < c.layers; ++l) {
      auto name = [&](const std::string& suffix) { return sf::model::layer_tensor(l, suffix); };
      auto t = [&](const std::string& suffix, const std::vector<int64_t>& shape) {
        return pack.add(name(suffix), shape);
      };
      auto qkv = [&](const std::string& kind, const std::vector<int64_t>& shape) {
        return pack.add_stacked(
            {name("attention.self.query." + kind), name("attention.self.key." + kind),
             name("attention.self.value." + kind)},
            shape);
      };
      LayerSegments& s = seg[static_cast<size_t>(l)];
      s.qkv_w = qkv("weight", {h, h});
      s.qkv_b = qkv("bias", {h});
      s.o_w = t("attention.output.dense.weight", {h, h});
      s.o_b = t("attention.output.dense.bias", {h});
      s.ln1_g = t("attention.output.LayerNorm.weight", {h});
      s.ln1_b = t("attention.output.LayerNorm.bias", {h});
      s.i_w = t("intermediate.dense.weight", {in, h});
      s.i_b = t("intermediate.dense.bias", {in});
      s.o2_w = t("output.dense.weight", {h, in});
      s.o2_b = t("output.dense.bias", {h});
      s.ln2_g = t("output.LayerNorm.weight", {h});
      s.ln2_b = t("output.LayerNorm.bias", {h});
    }
    const size_t head_w = pack.add("classifier.weight", {c.num_labels, h});
    const size_t head_b = pack.add("classifier.bias", {c.num_labels});

    weights_.release();
    pack.upload(weights_, stream_);

    word_emb_ = pack.at(word);
    pos_emb_ = pack.at(pos);
    type0_emb_ = pack.at(type0);
    emb_ln_g_ = pack.at(emb_g);
    emb_ln_b_ = pack.at(emb_b);
    layers_.clear();
    for (const LayerSegments& s : seg) {
      layers_.push_back({pack.at(s.qkv_w), pack.at(s.qkv_b), pack.at(s.o_w), pack.at(s.o_b),
                         pack.at(s.ln1_g), pack.at(s.ln1_b), pack.at(s.i_w), pack.at(s.i_b),
                         pack.at(s.o2_w), pack.at(s.o2_b), pack.at(s.ln2_g), pack.at(s.ln2_b)});
    }
    head_w_ = pack.at(head_w);
    head_b_ = pack.at(head_b);
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
  static constexpr int kMaxHidden = 3072;  // LayerNorm rows staged in 48 KB of shared memory

  void require_loaded() const {
    if (!loaded_) throw BackendError("cuda-fp32 backend: encode() called before load()");
  }

  // Throws BackendError naming the first problem; returns the longest sequence.
  int validate(const Batch& batch) const { return sf::model::validate_batch(batch, config_); }

  // y[rows, out] = x[rows, in] * w[out, in]^T (row-major), as column-major cuBLAS:
  // y^T = w * x^T with w read transposed.
  void linear(const float* x, const float* w, int rows, int in, int out, float* y) {
    const float one = 1.0f, zero = 0.0f;
    check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, &one, w, in, x, in, &zero, y,
                      out),
          "cublasSgemm");
  }

  void run(const Batch& batch, std::span<float> result, bool want_pooled) {
    const int max_len = validate(batch);
    const size_t nseq = batch.size();
    if (nseq == 0) return;
    DeviceScope scope(device_);
    try {
      forward(batch, max_len, result, want_pooled);
    } catch (...) {
      cudaStreamSynchronize(stream_);  // nothing may still read the staging buffers
      throw;
    }
  }

  void forward(const Batch& batch, int max_len, std::span<float> result, bool want_pooled) {
    const Config& c = config_;
    const int nseq = static_cast<int>(batch.size());
    const int T = static_cast<int>(batch.total_tokens());
    const int H = c.hidden, I = c.intermediate, L = c.num_labels;
    const size_t t = static_cast<size_t>(T);

    // Buffers: grown to the largest batch seen, then reused.
    const size_t n_ids = static_cast<size_t>(nseq) + 1 + t;
    host_ids_.reserve(n_ids);
    ids_.reserve(n_ids);
    x_.reserve(t * H);
    qkv_.reserve(t * 3 * H);  // also the output of the two [*, H] projections
    ctx_.reserve(t * H);
    inter_.reserve(t * I);
    pooled_.reserve(static_cast<size_t>(nseq) * H);
    logits_.reserve(static_cast<size_t>(nseq) * L);
    host_out_.reserve(static_cast<size_t>(nseq) * std::max(H, L));

    // Offsets, then tokens, in one pinned block and one copy.
    int32_t* staged = host_ids_.data();
    std::memcpy(staged, batch.offsets.data(), (nseq + 1) * sizeof(int32_t));
    std::memcpy(staged + nseq + 1, batch.tokens.data(), t * sizeof(int32_t));
    check(cudaMemcpyAsync(ids_.data(), staged, n_ids * sizeof(int32_t), cudaMemcpyHostToDevice,
                          stream_),
          "cudaMemcpyAsync (tokens)");
    const int32_t* d_offsets = ids_.data();
    const int32_t* d_tokens = ids_.data() + nseq + 1;

    float* x = x_.data();
    float* qkv = qkv_.data();
    float* ctx = ctx_.data();
    float* inter = inter_.data();
    const float eps = c.layer_norm_eps;

    embed_layernorm(d_tokens, d_offsets, nseq, T, word_emb_, pos_emb_, type0_emb_, emb_ln_g_,
                    emb_ln_b_, H, eps, x, stream_);
    for (const LayerWeights& w : layers_) {
      linear(x, w.qkv_w, T, H, 3 * H, qkv);
      attention(qkv, w.qkv_b, d_offsets, nseq, max_len, c.heads, H / c.heads, ctx, stream_);
      linear(ctx, w.attn_out_w, T, H, H, qkv);
      bias_residual_layernorm(qkv, w.attn_out_b, x, w.ln1_g, w.ln1_b, T, H, eps, stream_);
      linear(x, w.ffn_in_w, T, H, I, inter);
      bias_gelu(inter, w.ffn_in_b, T, I, stream_);
      linear(inter, w.ffn_out_w, T, I, H, qkv);
      bias_residual_layernorm(qkv, w.ffn_out_b, x, w.ln2_g, w.ln2_b, T, H, eps, stream_);
    }
    pool_head(x, d_offsets, nseq, H, c.pooling == "mean", head_w_, head_b_, L, pooled_.data(),
              logits_.data(), stream_);

    const float* src = want_pooled ? pooled_.data() : logits_.data();
    check(cudaMemcpyAsync(host_out_.data(), src, result.size() * sizeof(float),
                          cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpyAsync (results)");
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (encode)");
    std::memcpy(result.data(), host_out_.data(), result.size() * sizeof(float));
  }

  const int device_;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  std::mutex mu_;

  bool loaded_ = false;
  Config config_;
  DeviceBuffer<float> weights_;
  const float* word_emb_ = nullptr;
  const float* pos_emb_ = nullptr;
  const float* type0_emb_ = nullptr;
  const float* emb_ln_g_ = nullptr;
  const float* emb_ln_b_ = nullptr;
  std::vector<LayerWeights> layers_;
  const float* head_w_ = nullptr;
  const float* head_b_ = nullptr;

  DeviceBuffer<int32_t> ids_;  // offsets, then tokens
  DeviceBuffer<float> x_, qkv_, ctx_, inter_, pooled_, logits_;
  PinnedBuffer<int32_t> host_ids_;
  PinnedBuffer<float> host_out_;
};

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the error so later runtime calls do not see it
    return 0;
  }
  return n;
}

std::unique_ptr<Backend> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend>(device);
}

}  // namespace sf::cuda
