// corpus.h: finds labelled mail and turns it into a token cache.
//
// What it does: lists labelled messages from (a) a manifest TSV (manifest.h),
// (b) a directory tree (Maildir or plain) in which a folder named spam/junk or
// ham/inbox/good (any depth, case-insensitive) gives the label, or (c) an mbox
// file per label (split at "From " lines). Messages listed from (b) and (c)
// get a split from a hash of their path (and position in the mbox), so the
// split of a message never changes when others are added. Then
// `tokenize_corpus` reads, extracts and tokenizes every message on many
// threads with model::Pipeline into a TokenCache, in listing order.
// Promises: the cache lists messages in the same order as the input listing
// (deterministic, whatever the thread count); unreadable messages are counted
// and named, never silently dropped.
// Failure: CorpusError names the file or folder (a missing directory, an
// mbox that does not start with "From "): the operator's fault.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/pipeline.h"
#include "training/token_cache.h"

namespace sf::train {

struct CorpusError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LabelledMessage {
  std::string path;     // file to read
  uint64_t offset = 0;  // byte range inside it (mbox); length UINT64_MAX: whole file
  uint64_t length = UINT64_MAX;
  bool spam = false;
  std::string split;
  std::string source;
};

// Split from a stable hash of key: val_percent % val, test_percent % test, rest train.
std::string hash_split(const std::string& key, int val_percent, int test_percent);

// (a) manifest rows, paths resolved against root, only the given splits (empty: all).
std::vector<LabelledMessage> list_manifest(const std::string& manifest, const std::string& root,
                                           const std::vector<std::string>& splits);
// (b) every regular file under dir whose path has a label folder; files under a
// Maildir "tmp" folder and dot files are skipped. Sorted by path.
std::vector<LabelledMessage> list_directory(const std::string& dir, int val_percent,
                                            int test_percent, size_t* unlabelled = nullptr);
// (c) the messages of one mbox file ("From " separated, mboxrd/mboxo).
std::vector<LabelledMessage> list_mbox(const std::string& path, bool spam, int val_percent,
                                       int test_percent);

struct TokenizeStats {
  size_t messages = 0, unreadable = 0, truncated = 0;
  std::vector<std::string> unreadable_paths;  // first 20
  double seconds = 0;
};

// Progress callback: (done, total, seconds so far).
using ProgressFn = std::function<void(size_t, size_t, double)>;

TokenCache tokenize_corpus(const std::vector<LabelledMessage>& msgs, const model::Model& m,
                           const model::Pipeline& pipeline, int threads, TokenizeStats* stats,
                           const ProgressFn& progress = {});

}  // namespace sf::train
