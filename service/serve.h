// serve.h: `spamformer serve`: the daemon. Config, the I/O thread pool, the
// listeners of every adapter, the ScanEngine, signals.
//
// What it does: binds the listen addresses of [spamd] and [http] (printing
// each on standard output as "spamformer serve: <iface> listening on <addr>"),
// loads the model in the background (readyz turns 200, the scheduler starts;
// until then messages pass as unchecked, reason=not_ready), and serves until
// SIGTERM/SIGINT: then it stops accepting, lets the requests in flight finish
// (up to server.shutdown_timeout_ms), drains the scheduler and exits 0; a
// second signal ends it at once. SIGHUP (or POST /v1/admin/reload) re-reads
// the config: scheduler, verdict, limits, timeouts, log level, the HTTP token
// and the rules take effect for new requests without dropping connections;
// listen addresses, threads and the model need a restart (logged).
// Failure: a bad config, an address that cannot be bound, a missing model
// file: an error message and exit status 1 before serving. A model that fails
// to load later is logged and ends the daemon with status 1.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "service/config.h"
#include "service/serve_adapter.h"
#include "service/serve_engine.h"
#include "service/serve_policy.h"

namespace sf::service {

struct ServeOptions {
  std::string config_path;  // "": resolve_config's search
  std::string model_path;   // "": config, else default_model_path()
  std::string backend = "auto";
  int threads = -1;  // CPU backend threads; -1: config
};

// Loads the model (blocking; called on a background thread).
using ModelLoader =
    std::function<std::shared_ptr<const ModelHandle>(const Config&, const ServeOptions&)>;
// Builds the decision policy and the feedback sink for a config (rules_db
// set: the rule engine and its store; else the default policy and a
// feedback-only store). May throw ConfigError or the store's errors.
struct PolicyBundle {
  std::shared_ptr<const Policy> policy;
  std::shared_ptr<FeedbackSink> feedback;
  std::function<void()> reload_rules;  // re-reads the rules; may be empty
  std::function<bool()> poll_rules;    // reloads if the store changed; may be empty
};
using PolicyFactory = std::function<PolicyBundle(const Config&)>;

class Daemon {
 public:
  Daemon(ServeOptions options, Config config, ModelLoader loader, PolicyFactory policies,
         std::ostream& out);
  ~Daemon();
  // Serves until shutdown; returns the exit status. Throws on start-up errors.
  int run();
  // As SIGTERM (thread-safe).
  void request_stop();
  // As SIGHUP (thread-safe).
  void request_reload();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The default policy from [verdict] and a feedback store at
// server.feedback_db (or default_state_dir()/feedback.sqlite).
PolicyBundle default_policies(const Config& c);

}  // namespace sf::service
