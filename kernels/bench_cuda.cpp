// bench_cuda.cpp: messages per second of the "cuda-fp32" backend on a randomly
// initialised MiniLM-shaped encoder (6 layers, hidden 384, 12 heads, 1536).
//
// What it does: for each sequence length and batch size, times whole encode()
// calls (host validation, token upload, encoder, logits download: what a caller
// waits for) after warm-up calls, over several different batches in rotation,
// and prints the median call time, messages/s, tokens/s and the fp32 rate the
// matrix products and attention reach (in TFLOP/s). Before that table, a per-operation
// breakdown at batch 256 (bench_cuda_ops.h) says where a forward pass spends its time.
// Usage: bench_cuda [--device N] [--seconds S] (S: time budget per row, default 0.5)
// Failure: exits 1 with the message when no GPU is visible or a call fails.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include "kernels/bench_cuda_ops.h"
#include "kernels/cuda_backend.h"
#include "kernels/random_model.h"

namespace {

// Random token ids between [CLS] and [SEP], `count` sequences of `len` tokens.
sf::model::Batch make_batch(int count, int len, int vocab, uint32_t seed) {
  sf::model::Batch b;
  std::vector<int32_t> ids(static_cast<size_t>(len));
  uint32_t s = seed * 2654435761u + 1u;
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < len; ++j) {
      s = s * 1664525u + 1013904223u;
      ids[static_cast<size_t>(j)] = static_cast<int32_t>(1000 + (s >> 8) % (vocab - 1000));
    }
    ids.front() = 101;  // [CLS]
    ids.back() = 102;   // [SEP]
    b.add(ids);
  }
  return b;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int device = 0;
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
      device = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--device N] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  try {
    if (sf::cuda::device_count() == 0) {
      std::fprintf(stderr, "bench_cuda: no CUDA GPU visible\n");
      return 1;
    }
    sf::model::Config cfg;  // the defaults are MiniLM-L6-H384's shape
    const sf::model::Model model = sf::cuda::random_model(cfg, 42);
    auto backend = sf::cuda::make_cuda_backend(device);
    backend->load(model);
    const auto caps = backend->capabilities();
    std::printf("bench_cuda: %s on %s, random %d-layer hidden %d heads %d intermediate %d\n",
                caps.name.c_str(), caps.device.c_str(), cfg.layers, cfg.hidden, cfg.heads,
                cfg.intermediate);

    const double H = cfg.hidden, I = cfg.intermediate;
    struct Row {
      int len, batch;
      double ms, msgs, tokens, tflops;
    };
    std::vector<Row> rows;
    for (int len : {128, 256}) {
      for (int batch : {1, 32, 256}) {
        constexpr int kRotation = 4;
        std::vector<sf::model::Batch> batches;
        for (int r = 0; r < kRotation; ++r) {
          batches.push_back(make_batch(batch, len, cfg.vocab_size, 1000u * len + batch + r));
        }
        std::vector<float> logits(static_cast<size_t>(batch) * cfg.num_labels);
        for (int w = 0; w < 3; ++w) backend->encode(batches[w % kRotation], logits);
        std::vector<double> times;
        const auto start = std::chrono::steady_clock::now();
        for (int it = 0;; ++it) {
          const auto t0 = std::chrono::steady_clock::now();
          backend->encode(batches[it % kRotation], logits);
          const auto t1 = std::chrono::steady_clock::now();
          times.push_back(std::chrono::duration<double>(t1 - t0).count());
          const double spent = std::chrono::duration<double>(t1 - start).count();
          if ((spent > seconds && times.size() >= 5) || times.size() >= 2000) break;
        }
        const double t = median(times);
        const double tokens = static_cast<double>(batch) * len;
        // Matrix products 2 * (4 H^2 + 2 H I) per token and layer; attention 4 * len * H.
        const double flops = tokens * cfg.layers * (2 * (4 * H * H + 2 * H * I) + 4.0 * len * H);
        rows.push_back({len, batch, t * 1e3, batch / t, tokens / t, flops / t / 1e12});
      }
    }
    for (int len : {128, 256}) sf::cuda::print_op_breakdown(device, 256, len);
    std::printf("\nend to end (encode() calls, median)\n%-6s %-6s %12s %12s %14s %10s\n", "tokens",
                "batch", "ms/call", "msgs/s", "tokens/s", "TFLOP/s");
    for (const Row& r : rows) {
      std::printf("%-6d %-6d %12.3f %12.1f %14.0f %10.2f\n", r.len, r.batch, r.ms, r.msgs, r.tokens,
                  r.tflops);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
}
