// daemon_fixture.h: what the daemon tests share: a backend for fault
// injection and a small running daemon core on loopback.
//
// FaultBackend implements model::Backend the way a device does, with knobs:
// it computes logits from the tokens (the second token t of [CLS] t [SEP]
// gives p(spam) = t / 1000 after softmax), and can be made slow (delay) or
// failing (throws BackendError), and records each call's batch size.
// test_prepare() turns a message whose body contains "P=<0..999>" into
// [CLS] P [SEP] (no "P=" gives 0).
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/backend.h"
#include "service/serve_adapter.h"
#include "service/serve_engine.h"
#include "service/serve_listener.h"

namespace sf::test {

class FaultBackend : public model::Backend {
 public:
  std::atomic<int> delay_ms{0};
  std::atomic<bool> fail{false};
  size_t max_batch = 0;

  model::Capabilities capabilities() const override {
    model::Capabilities c;
    c.name = "fault-test";
    c.device = "test";
    c.max_batch = max_batch;
    return c;
  }
  void load(const model::Model&) override {}
  void encode(const model::Batch& b, std::span<float> logits) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_sizes_.push_back(b.size());
    }
    ++calls_;
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (fail) throw model::BackendError("injected device failure");
    for (size_t i = 0; i < b.size(); ++i) {
      auto seq = b.sequence(i);
      double p = seq.size() >= 3 ? seq[1] / 1000.0 : 0.0;
      p = std::min(std::max(p, 1e-6), 1 - 1e-6);
      logits[i * 2 + 0] = 0.0f;
      logits[i * 2 + 1] = static_cast<float>(std::log(p / (1 - p)));
    }
  }
  void pooled(const model::Batch&, std::span<float>) override {
    throw model::BackendError("not used");
  }
  int calls() const { return calls_; }
  std::vector<size_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }

 private:
  std::atomic<int> calls_{0};
  mutable std::mutex mu_;
  std::vector<size_t> batch_sizes_;
};

inline service::PreparedInput test_prepare(std::string_view raw) {
  service::PreparedInput in;
  int p = 0;
  size_t at = raw.find("P=");
  if (at != std::string_view::npos)
    for (size_t i = at + 2; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i)
      p = p * 10 + (raw[i] - '0');
  if (raw.find("THROW") != std::string_view::npos)
    throw std::runtime_error("injected prepare failure");
  in.ids = {101, p, 102};
  if (raw.find("TRUNC") != std::string_view::npos) in.flags = {"input_truncated"};
  return in;
}

inline std::shared_ptr<service::ModelHandle> test_model(std::shared_ptr<FaultBackend> b) {
  auto h = std::make_shared<service::ModelHandle>();
  h->name = "test-model";
  h->config.num_labels = 2;
  h->config.spam_label = 1;
  h->replicas = {b};
  h->prepare = test_prepare;
  h->backend = "fault-test";
  h->device = "test";
  return h;
}

// A running daemon core: io threads, engine, context, listeners for the
// adapters a test adds.
struct TestDaemon {
  explicit TestDaemon(service::Config c, bool ready = true)
      : metrics(),
        config(std::make_shared<service::Config>(std::move(c))),
        backend(std::make_shared<FaultBackend>()),
        engine(ioc.get_executor(), 2, service::engine_options(*config),
               service::make_default_policy(config->verdict), metrics),
        ctx(engine, metrics, config, nullptr),
        listeners(ioc, &metrics) {
    if (ready) engine.set_model(test_model(backend));
  }
  ~TestDaemon() { stop(); }
  std::string add_tcp(std::shared_ptr<service::Adapter> a) {
    return listeners.add_tcp(std::move(a), "127.0.0.1:0");
  }
  void start(int threads = 2) {
    listeners.start();
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc.run(); });
  }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    listeners.close();
    work_.reset();
    ioc.stop();
    for (auto& t : threads_) t.join();
    engine.stop();
  }
  static uint16_t port_of(const std::string& addr) {
    return static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  }

  service::Metrics metrics;  // outlives ioc: sessions destroyed with it count through it
  service::asio::io_context ioc;
  service::asio::executor_work_guard<service::asio::io_context::executor_type> work_{
      ioc.get_executor()};
  std::shared_ptr<service::Config> config;
  std::shared_ptr<FaultBackend> backend;
  service::ScanEngine engine;
  service::DaemonContext ctx;
  service::Listeners listeners;

 private:
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace sf::test
