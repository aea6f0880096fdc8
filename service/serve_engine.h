// serve_engine.h: the one path every interface shares: ScanRequest ->
// extraction and tokenization (preparation pool) -> scheduler (batches, the
// backend) -> policy -> ScanResult.
//
// What it does: an adapter calls scan() (or co_awaits async_scan()) with a
// request; the engine prepares the message on its own thread pool (never on
// the I/O threads), submits the tokens to the scheduler, starts the request's
// deadline timer, asks the policy for the verdict and actions, records
// metrics and the scan log line, and completes the request on the I/O
// executor.
// Promises: every scan completes exactly once. A message that cannot be
// scored (model not loaded yet, deadline, queue full, backend error, bad
// preparation, shutdown) completes as `unchecked` with its reason, under the
// configured failure policy: fail-open (passes, actions {"accept"}) or
// fail-closed (tempfail, actions {"tempfail"}). Mail is never dropped here.
// Failure: none thrown to adapters; reasons are logged and counted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "model/backend.h"
#include "model/model.h"
#include "service/config.h"
#include "service/net.h"
#include "service/scan.h"
#include "service/scheduler.h"
#include "service/serve_metrics.h"
#include "service/serve_policy.h"

namespace sf::service {

// What a message becomes before the model sees it.
struct PreparedInput {
  std::vector<int32_t> ids;        // [CLS] ... [SEP]
  std::vector<std::string> flags;  // extraction flags (names)
};

// A loaded model as the engine uses it.
struct ModelHandle {
  std::string name;  // shown in headers and JSON ("spamformer-base")
  model::Config config;
  std::vector<std::shared_ptr<model::Backend>> replicas;  // load()ed; one thread each
  // Thread-safe; never throws on bad mail (exceptions become prepare_error).
  std::function<PreparedInput(std::string_view)> prepare;
  std::string backend;  // capabilities().name
  std::string device;
};

struct EngineOptions {
  SchedulerOptions scheduler;
  std::chrono::milliseconds deadline{5000};
  bool fail_closed = false;
  bool log_scans = true;
  double spam_threshold = 0.9;  // "required" for unchecked results
};
EngineOptions engine_options(const Config& c);

class ScanEngine {
 public:
  using Done = std::function<void(ScanResult)>;

  ScanEngine(asio::any_io_executor io, size_t prep_threads, EngineOptions options,
             std::shared_ptr<const Policy> policy, Metrics& metrics);
  ~ScanEngine();
  ScanEngine(const ScanEngine&) = delete;
  ScanEngine& operator=(const ScanEngine&) = delete;

  // Makes the engine ready (or swaps the model: the old scheduler drains).
  void set_model(std::shared_ptr<const ModelHandle> model);
  bool ready() const;
  std::shared_ptr<const ModelHandle> model() const;
  // New options and policy for the requests that start from now on.
  void reconfigure(EngineOptions options, std::shared_ptr<const Policy> policy);
  EngineOptions options() const;

  // `done` runs on the I/O executor, exactly once.
  void scan(ScanRequest request, Done done);

  template <typename Token>
  auto async_scan(ScanRequest request, Token&& token) {
    return asio::async_initiate<Token, void(ScanResult)>(
        [this](auto handler, ScanRequest r) {
          auto ex = asio::get_associated_executor(handler, io_);
          auto work = std::make_shared<asio::executor_work_guard<decltype(ex)>>(ex);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          scan(std::move(r), [h, ex, work](ScanResult res) {
            asio::dispatch(ex, [h, work, res = std::move(res)]() mutable {
              (*h)(std::move(res));
              work->reset();
            });
          });
        },
        token, std::move(request));
  }

  // The preparation pool, for blocking work such as SQLite writes.
  asio::thread_pool::executor_type blocking_executor() { return prep_.get_executor(); }
  // Waits for prepared work, then stops the scheduler after it ran what was
  // queued. Scans started afterwards complete as unchecked (shutdown).
  void stop();
  size_t queue_depth() const;
  uint64_t backend_calls() const;

 private:
  struct Loaded;
  struct State;
  void finish(std::shared_ptr<State> st, ScanResult r);
  void finish_unchecked(std::shared_ptr<State> st, Unchecked reason, const std::string& detail);
  std::shared_ptr<Loaded> loaded() const;

  asio::any_io_executor io_;
  asio::thread_pool prep_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  EngineOptions options_;
  std::shared_ptr<const Policy> policy_;
  std::shared_ptr<Loaded> loaded_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace sf::service
