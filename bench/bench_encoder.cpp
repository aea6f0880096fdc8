// bench_encoder: throughput of the fp32 CPU reference encoder (CpuEncoder::logits).
//
// Usage: bench_encoder [--threads N] [--seconds S] [MODEL]
//   MODEL: a Spamformer model file (.safetensors) or a Hugging Face BERT directory;
//          without it, a randomly initialised MiniLM-shaped model (6 layers, hidden 384,
//          12 heads, intermediate 1536, vocabulary 30522) is built in memory.
//   --threads N: OpenBLAS and worker threads (default: all cores).
//   --seconds S: minimum measuring time per row (default 2).
// Prints one row per (sequence length, batch size): lengths 128 and 256, batches of 1, 8
// and 32 sequences of random token ids, each measured after one warm-up batch.
// Failure: a bad argument or an unreadable model prints the reason and exits 2.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/cpu_backend.h"
#include "model/import_hf.h"
#include "model/model.h"

namespace {

using sf::model::Batch;
using sf::model::Config;
using sf::model::CpuEncoder;
using sf::model::Model;

Model random_minilm() {
  Model m;
  m.config = Config{};  // the defaults are MiniLM-L6-H384
  m.config.head_state = "untrained";
  std::mt19937 rng(42);
  std::normal_distribution<float> n(0.0f, 0.05f);
  for (const auto& [name, shape] : sf::model::weight_names(m.config)) {
    sf::model::Tensor t;
    t.shape = shape;
    t.data.resize(static_cast<size_t>(t.numel()));
    const bool ln_gain = name.find("LayerNorm.weight") != std::string::npos;
    for (float& v : t.data) v = ln_gain ? 1.0f + n(rng) : n(rng);
    m.tensors.emplace(name, std::move(t));
  }
  return m;
}

// Model-forward FLOPs per sequence of `len` tokens (matrix products only).
double flops_per_sequence(const Config& c, int len) {
  const double h = c.hidden, i = c.intermediate, l = len;
  const double linear = 2.0 * l * (4.0 * h * h + 2.0 * h * i);
  const double attention = 2.0 * 2.0 * l * l * h;
  return c.layers * (linear + attention);
}

int usage(const char* why) {
  std::fprintf(
      stderr, "bench_encoder: %s\nusage: bench_encoder [--threads N] [--seconds S] [MODEL]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double min_seconds = 2.0;
  std::string model_path;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--threads" && a + 1 < argc) {
      threads = std::atoi(argv[++a]);
      if (threads < 1) return usage("--threads needs a positive number");
    } else if (arg == "--seconds" && a + 1 < argc) {
      min_seconds = std::atof(argv[++a]);
      if (!(min_seconds > 0)) return usage("--seconds needs a positive number");
    } else if (!arg.empty() && arg[0] == '-') {
      return usage(("unknown option " + arg).c_str());
    } else {
      model_path = arg;
    }
  }

  Model m;
  std::string source;
  try {
    if (model_path.empty()) {
      m = random_minilm();
      source = "random MiniLM-shaped model (in memory)";
    } else if (std::filesystem::is_directory(model_path)) {
      m = sf::model::import_hf(model_path);
      source = "Hugging Face directory " + model_path;
    } else {
      m = sf::model::load_model(model_path);
      source = "model file " + model_path;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_encoder: %s\n", e.what());
    return 2;
  }

  const CpuEncoder enc(m, threads);
  const Config& c = enc.config();
  std::printf("model: %s\n", source.c_str());
  std::printf("shape: %d layers, hidden %d, %d heads, intermediate %d, vocab %d\n", c.layers,
              c.hidden, c.heads, c.intermediate, c.vocab_size);
  std::printf("threads: %d (OpenBLAS + attention workers), min %.1f s per row\n\n", threads,
              min_seconds);
  std::printf("%6s %6s %8s %12s %12s %12s %10s\n", "len", "batch", "runs", "ms/batch", "msg/s",
              "tokens/s", "GFLOP/s");

  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> id(1000, c.vocab_size - 1);
  for (int len : {128, 256}) {
    if (len > c.max_positions) continue;
    for (int bs : {1, 8, 32}) {
      Batch batch;
      for (int s = 0; s < bs; ++s) {
        std::vector<int32_t> ids(static_cast<size_t>(len));
        for (auto& t : ids) t = id(rng);
        ids.front() = 101;  // [CLS], [SEP] in the BERT uncased vocabulary
        ids.back() = 102;
        batch.add(ids);
      }
      std::vector<float> logits(batch.size() * static_cast<size_t>(c.num_labels));
      enc.logits(batch, logits);  // warm-up
      using clock = std::chrono::steady_clock;
      int runs = 0;
      const auto t0 = clock::now();
      double elapsed = 0.0;
      do {
        enc.logits(batch, logits);
        ++runs;
        elapsed = std::chrono::duration<double>(clock::now() - t0).count();
      } while (elapsed < min_seconds);
      const double per_batch = elapsed / runs;
      const double msgs = bs / per_batch;
      std::printf("%6d %6d %8d %12.2f %12.1f %12.0f %10.1f\n", len, bs, runs, per_batch * 1e3, msgs,
                  msgs * len, msgs * flops_per_sequence(c, len) / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}
