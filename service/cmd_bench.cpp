// cmd_bench.cpp: `spamformer bench`: model-only speed of the inference backends.
//
// What it does: builds a random encoder of the default (MiniLM-L6-H384) shape from a
// fixed seed (kernels/random_model.h; its vocabulary gets BERT's special tokens so the
// mail pipeline can run on it) and, for every backend asked for that this build and
// machine have, times whole encode() calls on pre-tokenized full-length sequences
// (random ids between [CLS] and [SEP]) at each length and batch size: median call time
// over a rotation of three different batches after warm-up, as messages/s. Then: batch-1
// latency percentiles (p50, p99) at each length; GPU energy per message from NVML
// (libnvidia-ml.so.1 is opened at run time, so the binary does not need it) over a
// sustained run; cold start, i.e. a fresh process (this binary, `--first-verdict`) that
// loads the model file, starts the backend, extracts and tokenizes a small built-in
// message and prints its probability, timed from spawn to that verdict.
// With --export DIR it also writes what bench/torch_reference.py needs to run the same
// weights and token ids through PyTorch: DIR/model.safetensors, DIR/tokens_<len>.bin
// (int32 [1024, len]), DIR/logits_<backend>_128.bin (our logits of the first 64
// sequences of tokens_128) and DIR/ours.json (every figure printed here).
// Promises: the numbers are printed, never asserted; tables last, one line per row.
// Failure: an unknown backend or bad option is a usage error (status 2); a backend that
// cannot start here (no GPU, no CUDA build) is reported and skipped; a backend that
// fails while running ends the command with status 1. NVML missing: energy is "n/a".
#include "service/cmd_bench.h"

#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/random_model.h"
#include "model/backend.h"
#include "model/model.h"
#include "model/pipeline.h"
#include "service/cli.h"

#ifdef SF_WITH_CUDA
#include "kernels/cuda_backend.h"
#include "kernels/quant_backend.h"
#endif

extern char** environ;

namespace sf::cli {
namespace {

using Clock = std::chrono::steady_clock;
using sf::model::Backend;
using sf::model::Batch;

const CommandSpec& spec() {
  static const CommandSpec s{
      "bench",
      "",
      "Model-only speed of the inference backends on a random MiniLM-shaped encoder: "
      "messages/s from pre-tokenized input, batch-1 latency, cold start, GPU energy.",
      "Backends: cpu, cuda-fp32, cuda-int8, cuda-fp8, and variants of cuda-int8:\n"
      "cuda-int8-nograph (no CUDA graphs), cuda-int8-fp32attn (fp32 attention kernel),\n"
      "cuda-int8-chunkN (sub-batches of at most N tokens). Those this build or machine\n"
      "lacks are skipped. Figures compare only within one run on one device.",
      {
          {"backends", "LIST", "comma-separated backends", "cpu,cuda-fp32,cuda-int8,cuda-fp8"},
          {"lengths", "LIST", "sequence lengths (tokens, [CLS] and [SEP] included)", "128,256,512"},
          {"batches", "LIST", "batch sizes for the GPU backends", "1,8,32,128,512,1024,2048"},
          {"cpu-batches", "LIST", "batch sizes for the cpu backend", "1,16"},
          {"variant-batches", "LIST", "batch sizes for the cuda-int8-* variants", "1,32,1024"},
          {"seconds", "S", "time spent per table row", "0.4"},
          {"latency-calls", "N", "batch-1 calls per latency row", "300"},
          {"energy-seconds", "S", "sustained run for the energy figure (0: skip)", "2"},
          {"cpu-threads", "N", "threads of the cpu backend (0: all cores)", "0"},
          {"device", "N", "GPU index", "0"},
          {"export", "DIR",
           "write model, token ids, our logits and figures for "
           "bench/torch_reference.py",
           ""},
          {"no-cold-start", "", "skip the cold-start measurement", ""},
          {"profile", "LIST", "quantized backends to time operation by operation (graphs off)",
           "cuda-int8"},
          {"profile-shapes", "LIST", "LENxBATCH shapes of the per-operation tables", "256x1024"},
          {"first-verdict", "FILE", "(internal) cold-start child: score one message", ""},
          {"backend", "NAME", "(internal) the cold-start child's backend", "cuda-int8"},
      }};
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<int> int_list(const Args& a, const std::string& name, const std::string& fallback,
                          int lo, int hi) {
  std::vector<int> out;
  for (const std::string& item : split_list(a.get_or(name, fallback))) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (end == item.c_str() || *end != '\0' || v < lo || v > hi) {
      throw UsageError("option '--" + name + "': '" + item + "' is not an integer in [" +
                       std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw UsageError("option '--" + name + "' is empty");
  return out;
}

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// The bench model: MiniLM-L6-H384's shape, random weights (seed 42), BERT's special
// token ids (0 [PAD], 100 [UNK], 101 [CLS], 102 [SEP], 103 [MASK]) and a few words.
sf::model::Model bench_model() {
  sf::model::Model m = sf::cuda::random_model(sf::model::Config{}, 42);
  m.vocab[0] = "[PAD]";
  m.vocab[100] = "[UNK]";
  m.vocab[101] = "[CLS]";
  m.vocab[102] = "[SEP]";
  m.vocab[103] = "[MASK]";
  const char* words[] = {"hello", "win",  "free",    "money", "now",     "click",  "here",
                         "the",   "your", "prize",   "offer", "meeting", "report", "today",
                         "from",  "to",   "subject", "dear",  "friend",  "account"};
  int id = 2000;
  for (const char* w : words) m.vocab[static_cast<size_t>(id++)] = w;
  m.metadata["bench.note"] = "random weights (spamformer bench, seed 42): not for scoring mail";
  return m;
}

// `count` full-length sequences: [CLS], random ids in [1000, vocab), [SEP].
Batch make_batch(int count, int len, int vocab, uint32_t seed) {
  Batch b;
  std::vector<int32_t> ids(static_cast<size_t>(len));
  uint32_t s = seed * 2654435761u + 1u;
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < len; ++j) {
      s = s * 1664525u + 1013904223u;
      ids[static_cast<size_t>(j)] = static_cast<int32_t>(1000 + (s >> 8) % (vocab - 1000));
    }
    ids.front() = 101;
    if (len > 1) ids.back() = 102;
    b.add(ids);
  }
  return b;
}

uint32_t batch_seed(int len, int batch, int r) {
  return static_cast<uint32_t>(100000 * len + 10 * batch + r);
}

// A backend by bench name, or nullptr (with the reason in `why`) where this build or
// machine has none.
std::unique_ptr<Backend> make_named(const std::string& name, int cpu_threads, int device,
                                    std::string& why, bool profile = false) {
  (void)device;  // device and profile are only used where this build has CUDA
  (void)profile;
  if (name == "cpu") return sf::model::make_cpu_backend(cpu_threads);
#ifdef SF_WITH_CUDA
  if (name.rfind("cuda-", 0) == 0) {
    if (sf::cuda::device_count() <= device) {
      why = "no CUDA GPU " + std::to_string(device) + " visible";
      return nullptr;
    }
    if (name == "cuda-fp32") return sf::cuda::make_cuda_backend(device);
    sf::cuda::QuantOptions o;
    if (name == "cuda-fp8") {
      o.format = sf::cuda::QuantFormat::kFp8;
    } else if (name == "cuda-int8-nograph") {
      o.graphs = false;
    } else if (name == "cuda-int8-fp32attn") {
      o.tensor_core_attention = false;
    } else if (name.rfind("cuda-int8-chunk", 0) == 0) {
      o.chunk_tokens = std::atoi(name.c_str() + std::strlen("cuda-int8-chunk"));
      if (o.chunk_tokens <= 0) throw UsageError("backend '" + name + "': bad chunk size");
    } else if (name != "cuda-int8") {
      throw UsageError("unknown backend '" + name + "'");
    }
    if (profile) {
      o.profile_ops = true;
      o.graphs = false;
    }
    return sf::cuda::make_cuda_quant_backend(device, o);
  }
#else
  if (name.rfind("cuda-", 0) == 0) {
    why = "this build has no CUDA backend";
    return nullptr;
  }
#endif
  throw UsageError("unknown backend '" + name + "'");
}

// GPU energy from NVML, opened at run time.
class Nvml {
 public:
  explicit Nvml(int index) {
    lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) return;
    auto init = reinterpret_cast<int (*)()>(dlsym(lib_, "nvmlInit_v2"));
    auto handle =
        reinterpret_cast<int (*)(unsigned, void**)>(dlsym(lib_, "nvmlDeviceGetHandleByIndex_v2"));
    energy_ = reinterpret_cast<int (*)(void*, unsigned long long*)>(
        dlsym(lib_, "nvmlDeviceGetTotalEnergyConsumption"));
    shutdown_ = reinterpret_cast<int (*)()>(dlsym(lib_, "nvmlShutdown"));
    if (init == nullptr || handle == nullptr || energy_ == nullptr || init() != 0) {
      energy_ = nullptr;
      return;
    }
    initialised_ = true;
    if (handle(static_cast<unsigned>(index), &device_) != 0) energy_ = nullptr;
  }
  ~Nvml() {
    if (initialised_ && shutdown_ != nullptr) shutdown_();
    if (lib_ != nullptr) dlclose(lib_);
  }
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // Millijoules since the driver loaded; false where NVML or the counter is missing.
  bool energy_mj(unsigned long long& out) const {
    return energy_ != nullptr && energy_(device_, &out) == 0;
  }

 private:
  void* lib_ = nullptr;
  void* device_ = nullptr;
  bool initialised_ = false;
  int (*energy_)(void*, unsigned long long*) = nullptr;
  int (*shutdown_)() = nullptr;
};

struct Row {
  std::string backend;
  int len, batch;
  double ms, msgs;
};

// Median seconds of one encode() call over `rotation`, after two warm-up calls.
double median_call(Backend& b, const std::vector<Batch>& rotation, std::vector<float>& out,
                   double seconds) {
  for (int w = 0; w < 2; ++w) b.encode(rotation[static_cast<size_t>(w) % rotation.size()], out);
  std::vector<double> times;
  const auto start = Clock::now();
  for (size_t it = 0;; ++it) {
    const auto t0 = Clock::now();
    b.encode(rotation[it % rotation.size()], out);
    const auto t1 = Clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
    const double spent = std::chrono::duration<double>(t1 - start).count();
    if ((spent > seconds && times.size() >= 3) || times.size() >= 5000) break;
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

const char* kColdStartMail =
    "From: Prize Desk <desk@example.invalid>\r\n"
    "To: someone@example.invalid\r\n"
    "Subject: You win a free prize today\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Dear friend, click here now to claim your free money. The offer ends today.\r\n";

// The cold-start child: every step stamped with the monotonic clock (shared by all
// processes of the machine), so the parent can place them after its spawn call.
int first_verdict(const std::string& model_path, const std::string& backend_name) {
  auto stamp = [] {
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
  };
  const long long t_main = stamp();
  const sf::model::Model m = sf::model::load_model(model_path);
  const long long t_model = stamp();
  std::string why;
  auto b = make_named(backend_name, 0, 0, why);
  if (b == nullptr) {
    std::cerr << "spamformer bench: " << backend_name << ": " << why << "\n";
    return 1;
  }
  b->load(m);
  const long long t_backend = stamp();
  const sf::model::Pipeline pipeline(m, sf::mail::Limits{});
  const sf::model::Prepared p = pipeline.prepare(kColdStartMail);
  Batch batch;
  batch.add(p.ids);
  std::vector<float> logits(static_cast<size_t>(m.config.num_labels));
  b->encode(batch, logits);
  const float prob = sf::model::spam_probability(m.config, logits);
  const long long t_verdict = stamp();
  std::printf("main_ns=%lld model_ns=%lld backend_ns=%lld verdict_ns=%lld p=%.6f tokens=%zu\n",
              t_main, t_model, t_backend, t_verdict, static_cast<double>(prob), p.ids.size());
  return 0;
}

struct ColdStart {
  bool ok = false;
  double main_ms = 0, model_ms = 0, backend_ms = 0, verdict_ms = 0, exit_ms = 0;
  std::string error;
};

ColdStart measure_cold_start(const std::string& model_path, const std::string& backend) {
  ColdStart r;
  int fds[2];
  if (pipe(fds) != 0) {
    r.error = "pipe() failed";
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string exe = "/proc/self/exe";
  std::vector<std::string> args = {"spamformer", "bench",     "--first-verdict",
                                   model_path,   "--backend", backend};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const auto t_spawn = Clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.error = std::string("posix_spawn: ") + std::strerror(rc);
    return r;
  }
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const auto t_exit = Clock::now();
  long long main_ns = 0, model_ns = 0, backend_ns = 0, verdict_ns = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(text.c_str(), "main_ns=%lld model_ns=%lld backend_ns=%lld verdict_ns=%lld",
                  &main_ns, &model_ns, &backend_ns, &verdict_ns) != 4) {
    r.error = "the child failed: " + text;
    return r;
  }
  const long long spawn_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t_spawn.time_since_epoch()).count();
  auto ms = [spawn_ns](long long t) { return static_cast<double>(t - spawn_ns) / 1e6; };
  r.ok = true;
  r.main_ms = ms(main_ns);
  r.model_ms = ms(model_ns);
  r.backend_ms = ms(backend_ns);
  r.verdict_ms = ms(verdict_ns);
  r.exit_ms = std::chrono::duration<double, std::milli>(t_exit - t_spawn).count();
  return r;
}

void write_ints(const std::filesystem::path& path, const Batch& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.tokens.data()),
            static_cast<std::streamsize>(b.tokens.size() * sizeof(int32_t)));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  if (auto model = a.get("first-verdict"))
    return first_verdict(*model, a.get_or("backend", "cuda-int8"));

  const std::vector<std::string> backends =
      split_list(a.get_or("backends", "cpu,cuda-fp32,cuda-int8,cuda-fp8"));
  const std::vector<int> lengths = int_list(a, "lengths", "128,256,512", 2, 512);
  const std::vector<int> gpu_batches = int_list(a, "batches", "1,8,32,128,512,1024,2048", 1, 65536);
  const std::vector<int> cpu_batches = int_list(a, "cpu-batches", "1,16", 1, 65536);
  const std::vector<int> variant_batches = int_list(a, "variant-batches", "1,32,1024", 1, 65536);
  const double seconds = a.get_double("seconds", 0.4, 0.0, 3600.0);
  const int latency_calls = static_cast<int>(a.get_int("latency-calls", 300, 10, 1000000));
  const double energy_seconds = a.get_double("energy-seconds", 2.0, 0.0, 3600.0);
  const int cpu_threads = static_cast<int>(a.get_int("cpu-threads", 0, 0, 4096));
  const int device = static_cast<int>(a.get_int("device", 0, 0, 1024));
  const std::string export_dir = a.get_or("export", "");

  const sf::model::Model model = bench_model();
  const sf::model::Config& cfg = model.config;
  std::printf(
      "spamformer bench: random encoder, %d layers, hidden %d, %d heads, intermediate "
      "%d; full-length sequences\n",
      cfg.layers, cfg.hidden, cfg.heads, cfg.intermediate);

  std::filesystem::path dir;
  std::string model_path;
  if (!export_dir.empty()) {
    dir = export_dir;
    std::filesystem::create_directories(dir);
    model_path = (dir / "model.safetensors").string();
  } else {
    model_path = (std::filesystem::temp_directory_path() /
                  ("spamformer-bench-" + std::to_string(getpid()) + ".safetensors"))
                     .string();
  }
  sf::model::save_model(model, model_path);
  if (!dir.empty()) {
    for (int len : lengths) {
      write_ints(dir / ("tokens_" + std::to_string(len) + ".bin"),
                 make_batch(1024, len, cfg.vocab_size, batch_seed(len, 1024, 0)));
    }
  }

  nlohmann::json report;
  std::vector<Row> rows;
  struct Latency {
    std::string backend;
    int len;
    double p50, p99;
  };
  std::vector<Latency> latencies;
  std::string device_name = "CPU";
  int status = 0;

  for (const std::string& name : backends) {
    std::string why;
    std::unique_ptr<Backend> b;
    try {
      b = make_named(name, cpu_threads, device, why);
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (b == nullptr) {
      std::printf("%-20s skipped: %s\n", name.c_str(), why.c_str());
      continue;
    }
    try {
      b->load(model);
      const auto caps = b->capabilities();
      if (name != "cpu") device_name = caps.device;
      std::printf("%-20s %s on %s\n", name.c_str(), caps.name.c_str(), caps.device.c_str());
      std::fflush(stdout);
      const bool variant = name.rfind("cuda-int8-", 0) == 0;
      const std::vector<int>& batches = name == "cpu" ? cpu_batches
                                        : variant     ? variant_batches
                                                      : gpu_batches;
      for (int len : lengths) {
        for (int batch : batches) {
          std::vector<Batch> rotation;
          for (int r = 0; r < 3; ++r) {
            rotation.push_back(make_batch(batch, len, cfg.vocab_size, batch_seed(len, batch, r)));
          }
          std::vector<float> out(static_cast<size_t>(batch) * cfg.num_labels);
          const double t = median_call(*b, rotation, out, seconds);
          rows.push_back({name, len, batch, t * 1e3, batch / t});
        }
      }
      // Batch-1 latency: every call timed, p50 and p99.
      for (int len : lengths) {
        std::vector<Batch> rotation;
        for (int r = 0; r < 3; ++r) {
          rotation.push_back(make_batch(1, len, cfg.vocab_size, batch_seed(len, 1, r)));
        }
        std::vector<float> out(static_cast<size_t>(cfg.num_labels));
        const int calls = name == "cpu" ? std::max(10, latency_calls / 10) : latency_calls;
        for (int w = 0; w < 5; ++w) b->encode(rotation[static_cast<size_t>(w) % 3], out);
        std::vector<double> ms;
        for (int i = 0; i < calls; ++i) {
          const auto t0 = Clock::now();
          b->encode(rotation[static_cast<size_t>(i) % 3], out);
          ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        latencies.push_back(
            {name, len, ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]});
      }
      if (!dir.empty() && std::find(lengths.begin(), lengths.end(), 128) != lengths.end()) {
        const Batch first = make_batch(1024, 128, cfg.vocab_size, batch_seed(128, 1024, 0));
        Batch head;
        for (size_t i = 0; i < 64; ++i) head.add(first.sequence(i));
        std::vector<float> logits(64 * static_cast<size_t>(cfg.num_labels));
        b->encode(head, logits);
        std::ofstream out(dir / ("logits_" + name + "_128.bin"), std::ios::binary);
        out.write(reinterpret_cast<const char*>(logits.data()),
                  static_cast<std::streamsize>(logits.size() * sizeof(float)));
      }
    } catch (const std::exception& e) {
      std::printf("%-20s FAILED: %s\n", name.c_str(), e.what());
      status = 1;
    }
  }

  // Energy per message: the first quantized (else any) GPU backend at 256 tokens (or the
  // longest length asked for), at its fastest batch size.
  std::string energy_line = "n/a";
  if (energy_seconds > 0) {
    std::string pick;
    for (const char* want : {"cuda-int8", "cuda-fp8", "cuda-fp32"}) {
      if (pick.empty() &&
          std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return r.backend == want; })) {
        pick = want;
      }
    }
    const Nvml nvml(device);
    unsigned long long e0 = 0;
    if (!pick.empty() && nvml.energy_mj(e0)) {
      const int len =
          std::find(lengths.begin(), lengths.end(), 256) != lengths.end() ? 256 : lengths.back();
      int best_batch = 1;
      double best = 0;
      for (const Row& r : rows) {
        if (r.backend == pick && r.len == len && r.msgs > best) {
          best = r.msgs;
          best_batch = r.batch;
        }
      }
      std::string why;
      auto b = make_named(pick, cpu_threads, device, why);
      b->load(model);
      std::vector<Batch> rotation;
      for (int r = 0; r < 3; ++r) {
        rotation.push_back(
            make_batch(best_batch, len, cfg.vocab_size, batch_seed(len, best_batch, r)));
      }
      std::vector<float> out(static_cast<size_t>(best_batch) * cfg.num_labels);
      for (int w = 0; w < 2; ++w) b->encode(rotation[static_cast<size_t>(w)], out);
      unsigned long long e1 = 0, e2 = 0;
      nvml.energy_mj(e1);
      const double t0 = now_s();
      size_t messages = 0;
      while (now_s() - t0 < energy_seconds) {
        b->encode(rotation[messages / static_cast<size_t>(best_batch) % 3], out);
        messages += static_cast<size_t>(best_batch);
      }
      const double dt = now_s() - t0;
      nvml.energy_mj(e2);
      const double joules = static_cast<double>(e2 - e1) / 1000.0;
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "%s, %d tokens, batch %d: %.3f mJ/message (%.0f W average over %.1f s, "
                    "%.0f msgs/s)",
                    pick.c_str(), len, best_batch, 1000.0 * joules / static_cast<double>(messages),
                    joules / dt, dt, static_cast<double>(messages) / dt);
      energy_line = buf;
      report["energy"] = {{"backend", pick},
                          {"tokens", len},
                          {"batch", best_batch},
                          {"mj_per_message", 1000.0 * joules / static_cast<double>(messages)},
                          {"watts", joules / dt}};
    } else if (!pick.empty()) {
      energy_line = "n/a (NVML or its energy counter is not available)";
    }
  }

  // Per-operation tables (CUDA events between operations, graphs off).
  std::string profile_text;
#ifdef SF_WITH_CUDA
  for (const std::string& name : split_list(a.get_or("profile", "cuda-int8"))) {
    if (name.rfind("cuda-int8", 0) != 0 && name != "cuda-fp8") continue;
    if (sf::cuda::device_count() <= device) break;
    for (const std::string& shape : split_list(a.get_or("profile-shapes", "256x1024"))) {
      int len = 0, batch = 0;
      if (std::sscanf(shape.c_str(), "%dx%d", &len, &batch) != 2 || len < 2 || len > 512 ||
          batch < 1) {
        throw UsageError("option '--profile-shapes': '" + shape + "' is not LENxBATCH");
      }
      try {
        std::string why;
        auto b = make_named(name, cpu_threads, device, why, /*profile=*/true);
        b->load(model);
        std::vector<Batch> rotation;
        for (int r = 0; r < 3; ++r) {
          rotation.push_back(make_batch(batch, len, cfg.vocab_size, batch_seed(len, batch, r)));
        }
        std::vector<float> out(static_cast<size_t>(batch) * cfg.num_labels);
        for (int w = 0; w < 2; ++w) b->encode(rotation[static_cast<size_t>(w)], out);
        const sf::cuda::QuantStats before = sf::cuda::quant_stats(*b);
        constexpr int kCalls = 5;
        const auto t0 = Clock::now();
        for (int i = 0; i < kCalls; ++i) b->encode(rotation[static_cast<size_t>(i) % 3], out);
        const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const sf::cuda::QuantStats after = sf::cuda::quant_stats(*b);
        double total = 0;
        std::vector<std::pair<std::string, double>> ops;
        for (const auto& [op, ms] : after.op_ms) {
          const auto it = before.op_ms.find(op);
          const double d = (ms - (it == before.op_ms.end() ? 0.0 : it->second)) / kCalls;
          ops.emplace_back(op, d);
          total += d;
        }
        std::sort(ops.begin(), ops.end(), [](auto& x, auto& y) { return x.second > y.second; });
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "\nper operation, %s, %d x %d tokens (ms per call, all layers; "
                      "events sum %.3f ms, wall %.3f ms per call)\n",
                      name.c_str(), batch, len, total, wall / kCalls);
        profile_text += buf;
        for (const auto& [op, ms] : ops) {
          std::snprintf(buf, sizeof buf, "  %-36s %9.3f %6.1f%%\n", op.c_str(), ms,
                        100.0 * ms / total);
          profile_text += buf;
        }
      } catch (const std::exception& e) {
        profile_text += "\nper operation, " + name + ": FAILED: " + e.what() + "\n";
        status = 1;
      }
    }
  }
#endif

  std::vector<std::pair<std::string, ColdStart>> cold;
  if (!a.flag("no-cold-start")) {
    for (const std::string& name : {std::string("cuda-int8"), std::string("cpu")}) {
      if (std::find(backends.begin(), backends.end(), name) == backends.end()) continue;
      if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.backend == name; })) {
        continue;
      }
      cold.emplace_back(name, measure_cold_start(model_path, name));
    }
  }
  if (dir.empty()) std::filesystem::remove(model_path);

  // Tables last.
  std::printf("\nthroughput (median encode() call; msgs/s = batch / call time), device %s\n",
              device_name.c_str());
  std::printf("%-20s %6s %6s %10s %12s\n", "backend", "tokens", "batch", "ms/call", "msgs/s");
  for (const Row& r : rows) {
    std::printf("%-20s %6d %6d %10.3f %12.0f\n", r.backend.c_str(), r.len, r.batch, r.ms, r.msgs);
    report["rows"].push_back({{"backend", r.backend},
                              {"tokens", r.len},
                              {"batch", r.batch},
                              {"ms", r.ms},
                              {"msgs_per_s", r.msgs}});
  }
  std::printf("\nbest msgs/s per backend and length\n%-20s", "backend");
  for (int len : lengths) std::printf(" %10d", len);
  std::printf("\n");
  std::vector<std::string> seen;
  for (const Row& r : rows) {
    if (std::find(seen.begin(), seen.end(), r.backend) != seen.end()) continue;
    seen.push_back(r.backend);
    std::printf("%-20s", r.backend.c_str());
    for (int len : lengths) {
      double best = 0;
      for (const Row& q : rows) {
        if (q.backend == r.backend && q.len == len) best = std::max(best, q.msgs);
      }
      std::printf(" %10.0f", best);
    }
    std::printf("\n");
  }
  std::printf("\nbatch-1 latency (ms, every call timed)\n%-20s %6s %8s %8s\n", "backend", "tokens",
              "p50", "p99");
  for (const Latency& l : latencies) {
    std::printf("%-20s %6d %8.3f %8.3f\n", l.backend.c_str(), l.len, l.p50, l.p99);
    report["latency"].push_back(
        {{"backend", l.backend}, {"tokens", l.len}, {"p50_ms", l.p50}, {"p99_ms", l.p99}});
  }
  std::printf("%s", profile_text.c_str());
  std::printf("\nGPU energy: %s\n", energy_line.c_str());
  for (const auto& [name, c] : cold) {
    if (!c.ok) {
      std::printf("cold start %-10s FAILED: %s\n", name.c_str(), c.error.c_str());
      continue;
    }
    std::printf(
        "cold start %-10s first verdict %.1f ms after spawn (main %.1f, model read %.1f, "
        "backend ready %.1f; exit %.1f)\n",
        name.c_str(), c.verdict_ms, c.main_ms, c.model_ms, c.backend_ms, c.exit_ms);
    report["cold_start"].push_back({{"backend", name},
                                    {"first_verdict_ms", c.verdict_ms},
                                    {"main_ms", c.main_ms},
                                    {"model_ms", c.model_ms},
                                    {"backend_ms", c.backend_ms}});
  }
  report["device"] = device_name;
  if (!dir.empty()) {
    std::ofstream out(dir / "ours.json");
    out << report.dump(1) << "\n";
  }
  return status;
}

}  // namespace sf::cli
