// cpu_backend.cpp: the Backend interface over CpuEncoder ("cpu-fp32"), and the
// calibrated spam probability every backend's logits go through.
//
// Promises: encode() == CpuEncoder::logits, pooled() == CpuEncoder::pooled; the backend
// owns its weights after load(). spam_probability is softmax(logits / T)[spam_label]
// computed with the maximum subtracted, so it never overflows for any finite logits.
// Failure: encode()/pooled() before load() and bad input throw BackendError (the
// caller's fault); load() rethrows the encoder's ModelError (the model file's fault).
// spam_probability throws BackendError when the logits row does not have num_labels
// entries, ModelError when the config's temperature or spam_label is unusable.
#include "model/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include "model/backend.h"

namespace sf::model {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads)
      : threads_(threads > 0
                     ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {}

  Capabilities capabilities() const override {
    Capabilities c;
    c.name = "cpu-fp32";
    c.device = "CPU (" + std::to_string(threads_) + (threads_ == 1 ? " thread)" : " threads)");
    c.max_batch = 0;
    c.max_sequence = encoder_ ? encoder_->config().max_positions : 512;
    c.int8 = false;
    return c;
  }

  void load(const Model& m) override { encoder_ = std::make_unique<CpuEncoder>(m, threads_); }

  void encode(const Batch& batch, std::span<float> logits) override {
    loaded().logits(batch, logits);
  }

  void pooled(const Batch& batch, std::span<float> out) override { loaded().pooled(batch, out); }

 private:
  const CpuEncoder& loaded() const {
    if (!encoder_) throw BackendError("cpu-fp32 backend: encode() called before load()");
    return *encoder_;
  }

  int threads_;
  std::unique_ptr<CpuEncoder> encoder_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}

float spam_probability(const Config& c, std::span<const float> logits) {
  if (logits.size() != static_cast<size_t>(c.num_labels)) {
    throw BackendError("spam_probability: " + std::to_string(logits.size()) +
                       " logits for a model with " + std::to_string(c.num_labels) + " labels");
  }
  if (c.spam_label < 0 || c.spam_label >= c.num_labels) {
    throw ModelError("spam_probability: spam_label " + std::to_string(c.spam_label) +
                     " is not a label index");
  }
  if (!(c.temperature > 0.0f) || !std::isfinite(c.temperature)) {
    throw ModelError("spam_probability: calibration temperature " + std::to_string(c.temperature) +
                     " is not a positive number");
  }
  const double t = c.temperature;
  double mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, static_cast<double>(l) / t);
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) / t - mx);
  const double p =
      std::exp(static_cast<double>(logits[static_cast<size_t>(c.spam_label)]) / t - mx) / sum;
  return static_cast<float>(p);
}

}  // namespace sf::model
