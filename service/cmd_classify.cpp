// cmd_classify.cpp: `spamformer classify [FILE...|-]`: one JSON line per
// message with its spam probability.
//
// A file that cannot be read gets a JSON line with "error" and makes the exit
// status 1; the other files are still scored. Mail content is never printed.
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "service/cli.h"
#include "service/commands.h"
#include "service/scorer.h"

namespace sf::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{
      "classify",
      "[FILE...|-]",
      "Scores RFC 822 messages (files, or standard input with '-' or no argument) and prints "
      "one JSON line per message: file, probability, tokens, ms, flags.",
      "The probability is calibrated: 0.9 means nine in ten such messages are spam. "
      "\"flags\" lists what was wrong with the message (e.g. bad_base64, input_truncated);\n"
      "a message with flags is still scored from what could be extracted.",
      {
          {"model", "FILE", "model file (safetensors)", "config model.path, else $SPAMFORMER_MODEL"},
          {"config", "FILE", "config file (TOML)", "$SPAMFORMER_CONFIG or /etc/spamformer"},
          {"backend", "KIND", "auto, cpu or cuda", "auto"},
          {"threads", "N", "CPU threads for the CPU backend (0: all cores)", "config"},
      }};
  return s;
}

bool read_all(std::istream& in, std::string& out, size_t cap) {
  out.clear();
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > cap) break;
  }
  return !in.bad();
}

}  // namespace

int cmd_classify(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  service::ScorerOptions o;
  o.config_path = a.get_or("config", "");
  o.model_path = a.get_or("model", "");
  o.backend = a.get_or("backend", "auto");
  o.threads = static_cast<int>(a.get_int("threads", -1, 0, 1024));
  auto scorer = service::open_scorer(o);
  if (!scorer->head_trained()) std::cerr << scorer->head_warning() << "\n";

  std::vector<std::string> files = a.positional();
  if (files.empty()) files.push_back("-");
  // Reading more than the extraction cap is useless: the rest is never parsed.
  const size_t cap = scorer->config.limits.max_input_bytes + 1;
  int status = 0;
  std::string raw;
  for (const auto& f : files) {
    nlohmann::json out;
    out["file"] = f;
    auto t0 = std::chrono::steady_clock::now();
    bool ok;
    if (f == "-") {
      ok = read_all(std::cin, raw, cap);
    } else {
      std::ifstream in(f, std::ios::binary);
      ok = in.is_open() && read_all(in, raw, cap);
    }
    if (!ok) {
      out["error"] = "cannot read file";
      std::cout << out.dump() << "\n";
      status = 1;
      continue;
    }
    model::Prepared p = scorer->pipeline->prepare(raw);
    std::vector<const model::Prepared*> one{&p};
    float prob = scorer->score(one)[0];
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    out["probability"] = prob;
    out["tokens"] = p.ids.size();
    out["ms"] = std::round(ms * 1000.0) / 1000.0;
    out["flags"] = model::prepared_flag_names(p);
    if (!scorer->head_trained()) out["head"] = scorer->model.config.head_state;
    std::cout << out.dump() << "\n";
  }
  return status;
}

}  // namespace sf::cli
