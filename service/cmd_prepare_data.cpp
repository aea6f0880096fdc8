// cmd_prepare_data.cpp: `spamformer prepare-data`: reads labelled mail (a
// manifest, a Maildir/directory tree with label folders, or an mbox per
// label), extracts and tokenizes it on every core with the model's pipeline,
// and writes a token cache (training/token_cache.h) for `spamformer train`.
//
// Mail content is never printed; unreadable messages are counted and the first
// few named. Exit status 1 when any message was unreadable (the cache is still
// written with the others).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "model/model.h"
#include "model/pipeline.h"
#include "service/cli.h"
#include "service/config.h"
#include "service/train_commands.h"
#include "training/corpus.h"
#include "training/token_cache.h"

namespace sf::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{
      "prepare-data",
      "(--manifest FILE | --dir DIR | --mbox-spam F --mbox-ham F) --out FILE",
      "Extracts and tokenizes labelled mail into a compact token cache for `spamformer train`.",
      "Label sources: a manifest TSV (path label split source); a directory tree or Maildir in "
      "which a\nfolder named spam/junk or ham/inbox/good gives the label; mbox files, one list "
      "per label.\nDirectory and mbox messages get their split from a hash of their path "
      "(--val-percent,\n--test-percent). Tokenization follows the model file's settings "
      "(tokenizer.max_tokens,\ntokenizer.tail_tokens), so prepare with the model you will "
      "train.",
      {
          {"manifest", "FILE", "manifest TSV with a header row", ""},
          {"root", "DIR", "folder the manifest's paths are relative to", "the manifest's folder"},
          {"dir", "DIR", "directory tree / Maildir with label folders", ""},
          {"mbox-spam", "FILES", "comma-separated mbox files of spam", ""},
          {"mbox-ham", "FILES", "comma-separated mbox files of ham", ""},
          {"val-percent", "N", "share of directory/mbox messages put in val", "10"},
          {"test-percent", "N", "share of directory/mbox messages put in test", "10"},
          {"splits", "LIST", "comma-separated splits to keep (e.g. train,val)", "all"},
          {"out", "FILE", "token cache to write", ""},
          {"model", "FILE", "model file whose vocabulary and settings to use",
           "config model.path, else $SPAMFORMER_MODEL"},
          {"config", "FILE", "config file (TOML; [limits] bound the extraction)",
           "$SPAMFORMER_CONFIG or /etc/spamformer"},
          {"threads", "N", "threads for extraction and tokenization", "all cores"},
      }};
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int cmd_prepare_data(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  auto out_path = a.get("out");
  if (!out_path) throw UsageError("prepare-data needs --out FILE");
  auto manifest = a.get("manifest");
  auto dir = a.get("dir");
  auto mbox_spam = split_list(a.get_or("mbox-spam", ""));
  auto mbox_ham = split_list(a.get_or("mbox-ham", ""));
  if (!manifest && !dir && mbox_spam.empty() && mbox_ham.empty())
    throw UsageError("prepare-data needs --manifest, --dir or --mbox-spam/--mbox-ham");
  int val_pct = static_cast<int>(a.get_int("val-percent", 10, 0, 100));
  int test_pct = static_cast<int>(a.get_int("test-percent", 10, 0, 100));
  if (val_pct + test_pct > 100) throw UsageError("--val-percent + --test-percent exceed 100");
  auto splits = split_list(a.get_or("splits", ""));
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  int threads = static_cast<int>(a.get_int("threads", hw, 1, 1024));

  auto cfg = service::resolve_config(a.get_or("config", ""));
  std::string model_path =
      a.get_or("model", cfg.model_path.empty() ? service::default_model_path() : cfg.model_path);
  auto m = model::load_model(model_path);
  model::Pipeline pipeline(m, cfg.limits);

  std::vector<train::LabelledMessage> msgs;
  if (manifest) {
    std::string root = a.get_or("root", std::filesystem::path(*manifest).parent_path().string());
    auto l = train::list_manifest(*manifest, root, splits);
    msgs.insert(msgs.end(), l.begin(), l.end());
  }
  if (dir) {
    size_t unlabelled = 0;
    auto l = train::list_directory(*dir, val_pct, test_pct, &unlabelled);
    if (unlabelled)
      std::cerr << "prepare-data: " << unlabelled << " files under " << *dir
                << " are in no label folder and were skipped\n";
    msgs.insert(msgs.end(), l.begin(), l.end());
  }
  for (const auto& [files, spam] : {std::pair{mbox_spam, true}, std::pair{mbox_ham, false}})
    for (const auto& f : files) {
      auto l = train::list_mbox(f, spam, val_pct, test_pct);
      msgs.insert(msgs.end(), l.begin(), l.end());
    }
  if (!splits.empty())
    std::erase_if(msgs, [&](const train::LabelledMessage& x) {
      return std::find(splits.begin(), splits.end(), x.split) == splits.end();
    });
  if (msgs.empty()) {
    std::cerr << "prepare-data: no labelled messages found\n";
    return 1;
  }
  std::cerr << "prepare-data: " << msgs.size() << " messages, model " << model_path << " ("
            << m.config.max_tokens << " tokens, tail " << m.config.tail_tokens << "), " << threads
            << " threads\n";

  double last = -10;
  train::TokenizeStats stats;
  auto cache = train::tokenize_corpus(
      msgs, m, pipeline, threads, &stats, [&](size_t done, size_t total, double s) {
        if (s - last < 2 && done < total) return;
        last = s;
        double rate = s > 0 ? static_cast<double>(done) / s : 0;
        double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
        std::fprintf(stderr, "prepare-data: %zu/%zu messages (%.1f msg/s, %s %.0f s)\n", done,
                     total, rate, done < total ? "ETA" : "took", done < total ? eta : s);
      });
  train::write_token_cache(cache, *out_path);
  auto bytes = std::filesystem::file_size(*out_path);
  std::printf("wrote %s: %zu messages, %zu tokens (%.1f per message), %.2f MiB\n",
              out_path->c_str(), cache.messages.size(), cache.tokens.size(),
              cache.messages.empty() ? 0.0
                                     : static_cast<double>(cache.tokens.size()) /
                                           static_cast<double>(cache.messages.size()),
              static_cast<double>(bytes) / (1 << 20));
  for (size_t s = 0; s < cache.splits.size(); ++s) {
    size_t n = 0, spam = 0;
    for (const auto& msg : cache.messages)
      if (msg.split == s) {
        ++n;
        spam += msg.label;
      }
    std::printf("  %-8s %7zu messages (%zu spam, %zu ham)\n", cache.splits[s].c_str(), n, spam,
                n - spam);
  }
  std::printf("  truncated to the token window: %zu; %.1f msg/s on %d threads\n", stats.truncated,
              stats.seconds > 0 ? static_cast<double>(msgs.size()) / stats.seconds : 0.0, threads);
  if (stats.unreadable) {
    std::printf("unreadable: %zu messages (first: %s)\n", stats.unreadable,
                stats.unreadable_paths[0].c_str());
    return 1;
  }
  return 0;
}

}  // namespace sf::cli
