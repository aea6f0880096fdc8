// cmd_import_hf.cpp: `spamformer import-hf DIR --out FILE`: converts a
// Hugging Face BERT-family checkpoint into a Spamformer model file.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "model/head_file.h"
#include "model/import_hf.h"
#include "model/model.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/config.h"

namespace sf::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{
      "import-hf",
      "DIR --out FILE",
      "Converts a Hugging Face BERT-family checkpoint folder (config.json, vocab.txt, "
      "model.safetensors) into one Spamformer model file.",
      "Without a classifier head in the checkpoint, the head is zero (every message scores "
      "0.5) and\nthe file says head.state=untrained: train it with the training pipeline. "
      "scripts/fetch_base_model.sh\nfetches all-MiniLM-L6-v2 and prints the folder to give here.",
      {
          {"out", "FILE", "model file to write", "$SPAMFORMER_MODEL or the cache default"},
          {"max-tokens", "N", "tokens per message fed to the model, [CLS] and [SEP] included",
           "256"},
          {"tail-tokens", "N", "of those, how many come from the end of a long message", "64"},
          {"pooling", "KIND", "mean or cls", "mean"},
          {"head", "FILE",
           "join a trained head file (e.g. models/minilm-l6-spam-head.safetensors) to the "
           "encoder",
           ""},
          {"fp16", "", "store weights as float16 (half the size; tiny accuracy cost)", ""},
      }};
  return s;
}

}  // namespace

int cmd_import_hf(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  if (a.positional().size() != 1) throw UsageError("import-hf needs exactly one folder");
  model::ImportOptions o;
  o.max_tokens = static_cast<int>(a.get_int("max-tokens", o.max_tokens, 3, 4096));
  o.tail_tokens = static_cast<int>(a.get_int("tail-tokens", o.tail_tokens, 0, 4094));
  o.pooling = a.get_or("pooling", o.pooling);
  if (o.pooling != "mean" && o.pooling != "cls")
    throw UsageError("--pooling must be 'mean' or 'cls'");
  std::string out = a.get_or("out", service::default_model_path());
  auto t0 = std::chrono::steady_clock::now();
  model::Model m = model::import_hf(a.positional()[0], o);
  if (auto head = a.get("head")) model::apply_head(m, *head);
  std::filesystem::path parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  model::save_model(m, out, a.flag("fp16"));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::error_code ec;
  auto size = std::filesystem::file_size(out, ec);
  std::cerr << "import-hf: wrote " << out << " (" << (ec ? 0 : size >> 20) << " MiB, "
            << m.config.layers << " layers, hidden " << m.config.hidden << ", head "
            << m.config.head_state << ") in " << s << " s\n";
  std::cout << out << "\n";
  return 0;
}

namespace {

const CommandSpec& export_head_spec() {
  static const CommandSpec s{
      "export-head",
      "--model FILE --out HEAD",
      "Writes the classification head of a model file (weights, pooling, calibration "
      "temperature, tokenizer window, provenance) to a small head file.",
      "The head file records a fingerprint of the encoder it belongs to; `import-hf --head` "
      "refuses\nto join it to any other encoder.",
      {
          {"model", "FILE", "model file to take the head from", ""},
          {"out", "HEAD", "head file to write", ""},
      }};
  return s;
}

}  // namespace

int cmd_export_head(const std::vector<std::string>& argv) {
  Args a(export_head_spec(), argv);
  if (a.help()) {
    std::cout << usage(export_head_spec());
    return 0;
  }
  auto model_path = a.get("model");
  auto out = a.get("out");
  if (!model_path || !out) throw UsageError("export-head needs --model FILE and --out HEAD");
  model::Model m = model::load_model(*model_path);
  model::save_head(m, *out);
  std::cerr << "export-head: wrote " << *out << " (head " << m.config.head_state
            << ", temperature " << m.config.temperature << ")\n";
  return 0;
}

}  // namespace sf::cli
