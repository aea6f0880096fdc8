// serve_main.cpp: `spamformer serve [--config FILE]`: runs the daemon
// (serve.h) with the real model: the model file through open_scorer
// (scorer.h), the extraction/tokenization pipeline on the preparation pool.
//
// Exit status: 0 after a clean shutdown, 1 when the config, a listen address
// or the model is unusable (the message says which), 2 a usage error.
#include <filesystem>
#include <iostream>

#include "model/pipeline.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/scorer.h"
#include "service/serve.h"
#include "service/serve_log.h"

namespace sf::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{
      "serve",
      "",
      "Runs the daemon: the spamd protocol (spamc) and the HTTP API, scoring every message "
      "with one dynamic batcher in front of the model.",
      "Prints each listening address on standard output (\"spamformer serve: spamd listening "
      "on 127.0.0.1:7830\"), logs JSON lines on standard error. SIGTERM or SIGINT: stop "
      "accepting, finish the requests in flight, exit 0 (a second signal: at once). SIGHUP: "
      "re-read the config. Defaults: spamd on 127.0.0.1:7830, HTTP on 127.0.0.1:7831; see "
      "config/spamformer.toml and docs/daemon.md.",
      {
          {"config", "FILE", "config file (TOML)", "$SPAMFORMER_CONFIG or /etc/spamformer"},
          {"model", "FILE", "model file (safetensors)",
           "config model.path, else $SPAMFORMER_MODEL"},
          {"backend", "KIND", "auto, cpu or cuda", "auto"},
          {"threads", "N", "CPU threads for the CPU backend (0: all cores)", "config"},
          {"check-config", "", "read and check the config, print nothing, exit", ""},
      }};
  return s;
}

std::shared_ptr<const service::ModelHandle> load_model(const service::Config&,
                                                       const service::ServeOptions& o) {
  service::ScorerOptions so;
  so.config_path = o.config_path;
  so.model_path = o.model_path;
  so.backend = o.backend;
  so.threads = o.threads;
  std::shared_ptr<service::Scorer> s = service::open_scorer(so);
  if (!s->head_trained())
    service::log_event(service::LogLevel::warn, "model_head", {{"note", s->head_warning()}});
  auto h = std::make_shared<service::ModelHandle>();
  h->name = std::filesystem::path(s->model_path).stem().string();
  h->config = s->model.config;
  h->replicas = {std::shared_ptr<model::Backend>(s, s->backend.get())};
  const model::Capabilities caps = s->backend->capabilities();
  h->backend = caps.name;
  h->device = caps.device;
  h->prepare = [s](std::string_view raw) {
    model::Prepared p = s->pipeline->prepare(raw);
    service::PreparedInput in;
    in.flags = model::prepared_flag_names(p);
    in.ids = std::move(p.ids);
    return in;
  };
  return h;
}

}  // namespace

int cmd_serve(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  if (!a.positional().empty()) throw UsageError("serve takes no arguments");
  service::ServeOptions o;
  o.config_path = a.get_or("config", "");
  o.model_path = a.get_or("model", "");
  o.backend = a.get_or("backend", "auto");
  if (o.backend != "auto" && o.backend != "cpu" && o.backend != "cuda")
    throw UsageError("--backend must be auto, cpu or cuda");
  o.threads = static_cast<int>(a.get_int("threads", -1, 0, 1024));
  service::Config cfg = service::resolve_config(o.config_path);
  if (a.flag("check-config")) return 0;
  const std::string model_path = !o.model_path.empty()     ? o.model_path
                                 : !cfg.model_path.empty() ? cfg.model_path
                                                           : service::default_model_path();
  std::error_code ec;
  if (!std::filesystem::exists(model_path, ec))
    throw model::ModelError("model file '" + model_path +
                            "' not found. Make one with: scripts/fetch_base_model.sh, then "
                            "`spamformer import-hf <dir it printed> --out " +
                            model_path + "` (README: Quick start), or pass --model FILE");
  service::Daemon d(o, cfg, load_model, service::default_policies, std::cout);
  return d.run();
}

}  // namespace sf::cli
