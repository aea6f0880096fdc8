// serve.cpp: see serve.h.
#include "service/serve.h"

#include <csignal>
#include <ostream>
#include <thread>

#include "service/http_server.h"
#include "service/serve_listener.h"
#include "service/serve_log.h"
#include "service/milter_server.h"
#include "service/spamd_server.h"

namespace sf::service {

struct Daemon::Impl {
  ServeOptions options;
  std::shared_ptr<const Config> config;
  ModelLoader loader;
  PolicyFactory policies;
  std::ostream& out;

  int io_threads = 1;
  Metrics metrics;  // before ioc: sessions destroyed with ioc still count through it
  asio::io_context ioc;
  PolicyBundle bundle;
  std::unique_ptr<ScanEngine> engine;
  std::unique_ptr<DaemonContext> ctx;
  std::shared_ptr<SpamdAdapter> spamd;
  std::shared_ptr<HttpAdapter> http;
  std::unique_ptr<Listeners> listeners;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> rules_timer;
  std::atomic<int> exit_status{0};
  std::atomic<bool> stopping{false};
  std::mutex reload_mu;

  Impl(ServeOptions o, Config c, ModelLoader l, PolicyFactory p, std::ostream& os)
      : options(std::move(o)),
        config(std::make_shared<const Config>(std::move(c))),
        loader(std::move(l)),
        policies(std::move(p)),
        out(os),
        io_threads(config->server.io_threads > 0
                       ? config->server.io_threads
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        metrics(),
        ioc(io_threads) {}

  void wait_signals() {
    signals->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
      } else {
        begin_shutdown(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM"));
      }
      wait_signals();
    });
  }

  // The rule store is polled every second (cheap: one counter read), so rule
  // changes made with `spamformer rules` apply without a signal.
  void poll_rules() {
    if (!bundle.poll_rules || stopping) return;
    rules_timer->expires_after(std::chrono::seconds(1));
    rules_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      asio::post(engine->blocking_executor(), [this] {
        try {
          if (bundle.poll_rules()) log_event(LogLevel::info, "rules_reloaded");
        } catch (const std::exception& e) {
          log_event(LogLevel::error, "rules_reload_failed",
                    {{"error", e.what()}, {"kept", "old rules"}});
        }
        asio::post(ioc, [this] { poll_rules(); });
      });
    });
  }

  void begin_shutdown(const std::string& why) {
    if (stopping.exchange(true)) {
      log_event(LogLevel::warn, "shutdown_forced", {{"signal", why}});
      ioc.stop();
      return;
    }
    log_event(LogLevel::info, "shutdown",
              {{"signal", why}, {"open_connections", listeners->active()}});
    listeners->close();
    auto deadline = Clock::now() + std::chrono::milliseconds(config->server.shutdown_timeout_ms);
    drain(deadline);
  }

  void drain(Clock::time_point deadline) {
    if (listeners->active() == 0 || Clock::now() >= deadline) {
      if (listeners->active() > 0)
        log_event(LogLevel::warn, "shutdown_timeout", {{"open_connections", listeners->active()}});
      signals->cancel();
      rules_timer->cancel();
      ioc.stop();
      return;
    }
    auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(20));
    t->async_wait([this, t, deadline](const boost::system::error_code&) { drain(deadline); });
  }

  void reload() {
    std::lock_guard<std::mutex> lock(reload_mu);
    std::shared_ptr<const Config> next;
    try {
      next = std::make_shared<const Config>(resolve_config(options.config_path));
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "reload_failed", {{"error", e.what()}});
      return;
    }
    const Config& o = *config;
    const Config& n = *next;
    std::vector<std::string> restart;
    if (n.spamd.listen != o.spamd.listen) restart.push_back("spamd.listen");
    if (n.spamd.socket != o.spamd.socket) restart.push_back("spamd.socket");
    if (n.http.listen != o.http.listen) restart.push_back("http.listen");
    if (n.server.io_threads != o.server.io_threads) restart.push_back("server.io_threads");
    if (n.server.prep_threads != o.server.prep_threads) restart.push_back("server.prep_threads");
    if (n.model_path != o.model_path) restart.push_back("model.path");
    if (n.cpu_threads != o.cpu_threads) restart.push_back("model.cpu_threads");
    if (n.limits.max_input_bytes != o.limits.max_input_bytes ||
        n.limits.max_body_text_bytes != o.limits.max_body_text_bytes ||
        n.limits.max_parts != o.limits.max_parts || n.limits.max_depth != o.limits.max_depth ||
        n.limits.max_header_bytes != o.limits.max_header_bytes)
      restart.push_back("limits");
    if (n.server.rules_db != o.server.rules_db || n.server.feedback_db != o.server.feedback_db)
      restart.push_back("server.rules_db/feedback_db");
    if (http) {
      try {
        http->reload(n);
      } catch (const std::exception& e) {
        log_event(LogLevel::error, "reload_failed", {{"error", e.what()}, {"kept", "old token"}});
      }
    }
    std::shared_ptr<const Policy> policy;
    if (n.server.rules_db.empty()) {
      policy = make_default_policy(n.verdict);
    } else if (bundle.reload_rules) {
      try {
        bundle.reload_rules();
      } catch (const std::exception& e) {
        log_event(LogLevel::error, "reload_failed", {{"error", e.what()}, {"kept", "old rules"}});
      }
    }
    set_log_level(parse_log_level(n.server.log_level));
    engine->reconfigure(engine_options(n), policy);
    ctx->set_config(next);
    config = next;
    nlohmann::json f = {{"config", n.source}};
    if (!restart.empty()) f["needs_restart"] = restart;
    log_event(LogLevel::info, "reloaded", std::move(f));
  }
};

Daemon::Daemon(ServeOptions options, Config config, ModelLoader loader, PolicyFactory policies,
               std::ostream& out)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(config), std::move(loader),
                                   std::move(policies), out)) {}

Daemon::~Daemon() = default;

void Daemon::request_stop() {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d] { d->begin_shutdown("request"); });
}

void Daemon::request_reload() {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d] { d->reload(); });
}

int Daemon::run() {
  Impl& d = *impl_;
  const Config& cfg = *d.config;
  set_log_level(parse_log_level(cfg.server.log_level));
  d.bundle = d.policies(cfg);
  size_t prep = cfg.server.prep_threads > 0 ? static_cast<size_t>(cfg.server.prep_threads)
                                            : std::max(1u, std::thread::hardware_concurrency());
  d.engine = std::make_unique<ScanEngine>(d.ioc.get_executor(), prep, engine_options(cfg),
                                          d.bundle.policy, d.metrics);
  d.ctx = std::make_unique<DaemonContext>(*d.engine, d.metrics, d.config, d.bundle.feedback.get());
  d.ctx->request_reload = [this] { request_reload(); };
  d.listeners = std::make_unique<Listeners>(d.ioc, &d.metrics);

  std::vector<std::string> lines;
  if (!cfg.spamd.listen.empty() || !cfg.spamd.socket.empty()) {
    d.spamd = std::make_shared<SpamdAdapter>(*d.ctx);
    for (const auto& a : cfg.spamd.listen)
      lines.push_back("spamd listening on " + d.listeners->add_tcp(d.spamd, a));
    if (!cfg.spamd.socket.empty())
      lines.push_back("spamd listening on " +
                      d.listeners->add_unix(d.spamd, cfg.spamd.socket, cfg.spamd.socket_mode));
  }
  if (!cfg.http.listen.empty()) {
    d.http = std::make_shared<HttpAdapter>(*d.ctx);
    for (const auto& a : cfg.http.listen)
      lines.push_back("http listening on " + d.listeners->add_tcp(d.http, a));
  }
  if (!cfg.milter.listen.empty() || !cfg.milter.socket.empty()) {  // the milter adapter
    auto milter = std::make_shared<MilterAdapter>(*d.ctx);
    for (const auto& a : cfg.milter.listen)
      lines.push_back("milter listening on " + d.listeners->add_tcp(milter, a));
    if (!cfg.milter.socket.empty())
      lines.push_back("milter listening on " +
                      d.listeners->add_unix(milter, cfg.milter.socket, cfg.milter.socket_mode));
  }
  if (lines.empty())
    throw ConfigError(
        cfg.source +
        ": no interface to serve (spamd.listen, spamd.socket and http.listen are all empty)");

  d.signals = std::make_unique<asio::signal_set>(d.ioc, SIGTERM, SIGINT, SIGHUP);
  d.wait_signals();
  d.rules_timer = std::make_unique<asio::steady_timer>(d.ioc);
  d.poll_rules();
  d.listeners->start();
  for (const auto& l : lines) {
    d.out << "spamformer serve: " << l << "\n";
    log_event(LogLevel::info, "listening", {{"address", l}});
  }
  d.out.flush();

  // The model loads while the listeners already answer (unchecked, not_ready).
  std::thread loader([&d] {
    try {
      auto handle = d.loader(*d.config, d.options);
      if (!d.stopping) d.engine->set_model(handle);
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "model_load_failed", {{"error", e.what()}});
      d.exit_status = 1;
      asio::post(d.ioc, [&d] {
        d.stopping = true;
        d.listeners->close();
        d.signals->cancel();
        d.ioc.stop();
      });
    }
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < d.io_threads; ++i) threads.emplace_back([&d] { d.ioc.run(); });
  d.ioc.run();
  for (auto& t : threads) t.join();
  loader.join();
  d.engine->stop();
  log_event(LogLevel::info, "stopped", {{"status", d.exit_status.load()}});
  return d.exit_status;
}

}  // namespace sf::service
