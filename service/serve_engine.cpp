// serve_engine.cpp: see serve_engine.h.
#include "service/serve_engine.h"

#include <cmath>
#include <cstdio>

#include "service/serve_log.h"

namespace sf::service {

struct ScanEngine::Loaded {
  std::shared_ptr<const ModelHandle> model;
  std::unique_ptr<Scheduler> scheduler;
  ~Loaded() {
    if (scheduler) scheduler->stop();
  }
};

// One request in flight. It is the scheduler's job too, so the scheduler
// holds it while the model runs; its deadline timer holds it until it fires
// or finish() cancels it. Everything after preparation happens on `strand`.
struct ScanEngine::State : ScoreJob, std::enable_shared_from_this<State> {
  State(asio::any_io_executor io) : strand(asio::make_strand(io)), timer(strand) {}
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;
  ScanRequest request;
  Done on_result;
  Clock::time_point start;
  std::shared_ptr<const ModelHandle> model;
  std::shared_ptr<const Policy> policy;
  EngineOptions options;
  std::vector<std::string> flags;
  double prepare_ms = 0;
  int tokens = 0;
};

EngineOptions engine_options(const Config& c) {
  EngineOptions o;
  o.scheduler.max_batch = static_cast<size_t>(c.scheduler.max_batch);
  o.scheduler.max_wait = std::chrono::microseconds(c.scheduler.max_wait_us);
  o.scheduler.queue_capacity = static_cast<size_t>(c.scheduler.queue_capacity);
  o.deadline = std::chrono::milliseconds(c.scheduler.deadline_ms);
  o.fail_closed = c.scheduler.failure_policy == "closed";
  o.log_scans = c.server.log_scans;
  o.spam_threshold = c.verdict.spam_threshold;
  return o;
}

ScanEngine::ScanEngine(asio::any_io_executor io, size_t prep_threads, EngineOptions options,
                       std::shared_ptr<const Policy> policy, Metrics& metrics)
    : io_(std::move(io)),
      prep_(prep_threads == 0 ? 1 : prep_threads),
      metrics_(metrics),
      options_(options),
      policy_(std::move(policy)) {}

ScanEngine::~ScanEngine() { stop(); }

void ScanEngine::set_model(std::shared_ptr<const ModelHandle> model) {
  auto l = std::make_shared<Loaded>();
  l->model = model;
  l->scheduler =
      std::make_unique<Scheduler>(model->replicas, model->config, options().scheduler, &metrics_);
  std::shared_ptr<Loaded> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(loaded_);
    loaded_ = l;
  }
  std::weak_ptr<Loaded> weak = l;
  metrics_.set_queue_depth_source([weak] {
    auto p = weak.lock();
    return p ? p->scheduler->queue_depth() : size_t{0};
  });
  metrics_.set_backend(model->backend, model->device, model->name);
  metrics_.set_ready(true);
  log_event(LogLevel::info, "model_ready",
            {{"model", model->name},
             {"backend", model->backend},
             {"device", model->device},
             {"replicas", model->replicas.size()}});
  // `old` drains its queue as it goes out of scope here (or in the last request holding it).
}

std::shared_ptr<ScanEngine::Loaded> ScanEngine::loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loaded_;
}

bool ScanEngine::ready() const { return loaded() != nullptr && !stopping_; }

std::shared_ptr<const ModelHandle> ScanEngine::model() const {
  auto l = loaded();
  return l ? l->model : nullptr;
}

void ScanEngine::reconfigure(EngineOptions options, std::shared_ptr<const Policy> policy) {
  std::shared_ptr<Loaded> l;
  {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = options;
    if (policy) policy_ = std::move(policy);
    l = loaded_;
  }
  if (l) l->scheduler->set_options(options.scheduler);
}

EngineOptions ScanEngine::options() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_;
}

size_t ScanEngine::queue_depth() const {
  auto l = loaded();
  return l ? l->scheduler->queue_depth() : 0;
}

uint64_t ScanEngine::backend_calls() const {
  auto l = loaded();
  return l ? l->scheduler->backend_calls() : 0;
}

void ScanEngine::scan(ScanRequest request, Done done) {
  auto st = std::make_shared<State>(io_);
  st->start = Clock::now();
  st->request = std::move(request);
  if (st->request.id.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(++next_id_));
    st->request.id = buf;
  }
  st->on_result = std::move(done);
  std::shared_ptr<Loaded> l;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st->options = options_;
    st->policy = policy_;
    l = loaded_;
  }
  if (stopping_) {
    if (st->claim()) finish_unchecked(st, Unchecked::shutdown, "");
    return;
  }
  if (!l) {
    if (st->claim()) finish_unchecked(st, Unchecked::not_ready, "model not loaded yet");
    return;
  }
  st->model = l->model;
  st->deadline = st->start + st->options.deadline;
  st->timer.expires_at(st->deadline);
  st->timer.async_wait([this, st](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the request finished
    if (st->claim()) finish_unchecked(st, Unchecked::deadline, "");
  });
  asio::post(prep_, [this, st, l] {
    if (st->claimed()) return;  // the deadline passed before preparation started
    const auto t = Clock::now();
    PreparedInput in;
    try {
      in = l->model->prepare(st->request.message);
    } catch (const std::exception& e) {
      if (st->claim()) finish_unchecked(st, Unchecked::prepare_error, e.what());
      return;
    }
    st->prepare_ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    st->flags = std::move(in.flags);
    st->tokens = static_cast<int>(in.ids.size());
    st->ids = std::move(in.ids);
    State* raw = st.get();
    st->done = [this, raw](const ScoreOutcome& o) {
      // The scheduler claimed the job and holds it while this runs.
      auto self = raw->shared_from_this();
      if (o.status == ScoreStatus::deadline) {
        finish_unchecked(self, Unchecked::deadline, "");
        return;
      }
      if (o.status == ScoreStatus::backend_error) {
        finish_unchecked(self, Unchecked::backend_error, o.error);
        return;
      }
      asio::post(self->strand, [this, self, o] {
        Decision d = self->policy->decide(self->request, o.probability, self->flags);
        ScanResult r;
        r.verdict = d.verdict;
        r.probability = o.probability;
        r.spam_threshold = d.spam_threshold;
        r.rule = d.rule;
        r.actions = d.actions;
        r.timings.queue_ms = o.queue_ms;
        r.timings.model_ms = o.model_ms;
        r.batch_size = static_cast<int>(o.batch_size);
        finish(self, std::move(r));
      });
    };
    switch (l->scheduler->submit(st)) {
      case Scheduler::Submit::queued:
        return;
      case Scheduler::Submit::queue_full:
        if (st->claim()) finish_unchecked(st, Unchecked::queue_full, "");
        return;
      case Scheduler::Submit::stopped:
        if (st->claim()) finish_unchecked(st, Unchecked::shutdown, "");
        return;
    }
  });
}

void ScanEngine::finish_unchecked(std::shared_ptr<State> st, Unchecked reason,
                                  const std::string& detail) {
  ScanResult r;
  r.verdict = Verdict::unchecked;
  r.reason = reason;
  r.probability = -1;
  r.spam_threshold = st->options.spam_threshold;
  r.tempfail = st->options.fail_closed;
  r.rule = st->options.fail_closed ? "fail-closed" : "fail-open";
  r.actions = {st->options.fail_closed ? "tempfail" : "accept"};
  metrics_.count_unchecked(unchecked_name(reason));
  nlohmann::json f = {{"id", st->request.id},
                      {"interface", st->request.interface},
                      {"reason", unchecked_name(reason)},
                      {"policy", st->options.fail_closed ? "closed" : "open"}};
  if (!detail.empty()) f["detail"] = printable(detail, 300);
  log_event(reason == Unchecked::backend_error ? LogLevel::error : LogLevel::warn, "unchecked",
            std::move(f));
  finish(std::move(st), std::move(r));
}

void ScanEngine::finish(std::shared_ptr<State> st, ScanResult r) {
  asio::post(st->strand, [this, st, r = std::move(r)]() mutable {
    st->timer.cancel();
    r.id = st->request.id;
    r.model = st->model ? st->model->name : "";
    r.flags = st->flags;
    r.tokens = st->tokens;
    r.timings.prepare_ms = st->prepare_ms;
    r.timings.total_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - st->start).count();
    const std::string outcome = r.tempfail ? "tempfail" : std::string(verdict_name(r.verdict));
    metrics_.count_request(st->request.interface, outcome);
    metrics_.observe_latency(st->request.interface, r.timings.total_ms / 1000.0);
    if (st->options.log_scans) {
      nlohmann::json f = {{"id", r.id},
                          {"interface", st->request.interface},
                          {"verdict", verdict_name(r.verdict)},
                          {"rule", r.rule},
                          {"bytes", st->request.message.size()},
                          {"tokens", r.tokens},
                          {"ms", std::round(r.timings.total_ms * 100) / 100}};
      if (r.verdict != Verdict::unchecked) {
        f["p"] = std::round(r.probability * 10000) / 10000;
        f["batch"] = r.batch_size;
      } else {
        f["reason"] = unchecked_name(r.reason);
      }
      if (r.tempfail) f["tempfail"] = true;
      if (!r.flags.empty()) f["flags"] = r.flags;
      log_event(LogLevel::info, "scan", std::move(f));
    }
    Done done = std::move(st->on_result);
    asio::post(io_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  });
}

void ScanEngine::stop() {
  if (stopping_.exchange(true)) return;
  prep_.join();
  std::shared_ptr<Loaded> l;
  {
    std::lock_guard<std::mutex> lock(mu_);
    l = std::move(loaded_);
  }
  if (l) l->scheduler->stop();
  metrics_.set_ready(false);
}

}  // namespace sf::service
