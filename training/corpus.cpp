// corpus.cpp: see corpus.h.
#include "training/corpus.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "training/manifest.h"

namespace sf::train {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// 1 spam, 0 ham, -1 not a label folder.
int folder_label(const std::string& name) {
  std::string n = lower(name);
  if (n == "spam" || n == "junk" || n == ".spam" || n == ".junk") return 1;
  if (n == "ham" || n == "inbox" || n == "good" || n == "notspam" || n == ".ham") return 0;
  return -1;
}

bool read_range(const LabelledMessage& m, size_t cap, std::string& out) {
  std::ifstream in(m.path, std::ios::binary);
  if (!in) return false;
  if (m.offset) in.seekg(static_cast<std::streamoff>(m.offset));
  size_t want = static_cast<size_t>(std::min<uint64_t>(m.length, cap));
  out.resize(want);
  in.read(out.data(), static_cast<std::streamsize>(want));
  if (in.bad()) return false;
  out.resize(static_cast<size_t>(in.gcount()));
  return true;
}

}  // namespace

std::string hash_split(const std::string& key, int val_percent, int test_percent) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : key) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  int bucket = static_cast<int>((h >> 11) % 100);
  if (bucket < val_percent) return "val";
  if (bucket < val_percent + test_percent) return "test";
  return "train";
}

std::vector<LabelledMessage> list_manifest(const std::string& manifest, const std::string& root,
                                           const std::vector<std::string>& splits) {
  std::vector<LabelledMessage> out;
  for (auto& e : read_manifest(manifest)) {
    if (!splits.empty() && std::find(splits.begin(), splits.end(), e.split) == splits.end())
      continue;
    LabelledMessage m;
    m.path = (fs::path(root) / e.path).string();
    m.spam = e.spam;
    m.split = e.split;
    m.source = e.source;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<LabelledMessage> list_directory(const std::string& dir, int val_percent,
                                            int test_percent, size_t* unlabelled) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw CorpusError(dir + ": not a directory");
  std::vector<std::pair<std::string, bool>> files;
  size_t skipped = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    fs::path rel = fs::relative(it->path(), dir);
    int label = -1;
    bool skip = false;
    for (auto part = rel.begin(); part != rel.end(); ++part) {
      std::string name = part->string();
      if (std::next(part) == rel.end()) {
        skip = skip || name.empty() || name[0] == '.';
        break;
      }
      if (name == "tmp") skip = true;  // Maildir: messages still being delivered
      int l = folder_label(name);
      if (l >= 0) label = l;  // the deepest label folder wins
    }
    if (skip) continue;
    if (label < 0) {
      ++skipped;
      continue;
    }
    files.emplace_back(rel.generic_string(), label == 1);
  }
  if (ec) throw CorpusError(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<LabelledMessage> out;
  std::string source = fs::path(dir).lexically_normal().filename().string();
  if (source.empty()) source = fs::path(dir).lexically_normal().parent_path().filename().string();
  for (auto& [rel, spam] : files) {
    LabelledMessage m;
    m.path = (fs::path(dir) / rel).string();
    m.spam = spam;
    m.split = hash_split(rel, val_percent, test_percent);
    m.source = source;
    out.push_back(std::move(m));
  }
  if (unlabelled) *unlabelled = skipped;
  return out;
}

std::vector<LabelledMessage> list_mbox(const std::string& path, bool spam, int val_percent,
                                       int test_percent) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CorpusError("cannot open mbox " + path);
  std::vector<uint64_t> starts;
  std::string line;
  uint64_t pos = 0;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.rfind("From ", 0) == 0)
      starts.push_back(pos);
    else if (first)
      throw CorpusError(path + ": not an mbox (first line is not a \"From \" line)");
    first = false;
    pos += line.size() + 1;
  }
  uint64_t end = pos;
  std::vector<LabelledMessage> out;
  std::string source = fs::path(path).stem().string();
  for (size_t i = 0; i < starts.size(); ++i) {
    // Skip the "From " separator line itself: it is not part of the message.
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(starts[i]));
    std::string sep;
    std::getline(f, sep);
    LabelledMessage m;
    m.path = path;
    m.offset = starts[i] + sep.size() + 1;
    uint64_t stop = i + 1 < starts.size() ? starts[i + 1] : end;
    m.length = stop > m.offset ? stop - m.offset : 0;
    m.spam = spam;
    m.split = hash_split(path + "#" + std::to_string(i), val_percent, test_percent);
    m.source = source;
    out.push_back(std::move(m));
  }
  return out;
}

TokenCache tokenize_corpus(const std::vector<LabelledMessage>& msgs, const model::Model& m,
                           const model::Pipeline& pipeline, int threads, TokenizeStats* stats,
                           const ProgressFn& progress) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  const size_t n = msgs.size();
  std::vector<model::Prepared> prepared(n);
  std::vector<char> failed(n, 0);
  std::atomic<size_t> next{0}, done{0};
  const size_t cap = pipeline.limits().max_input_bytes + 1;
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, threads); ++t)
    workers.emplace_back([&] {
      std::string raw;
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        if (read_range(msgs[i], cap, raw))
          prepared[i] = pipeline.prepare(raw);
        else
          failed[i] = 1;
        done.fetch_add(1);
      }
    });
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (done.load() < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    size_t d = done.load();
    if (progress && d < n) progress(d, n, seconds());
  }
  for (auto& w : workers) w.join();
  if (progress) progress(n, n, seconds());

  TokenCache c = make_token_cache(m);
  TokenizeStats s;
  for (size_t i = 0; i < n; ++i) {
    if (failed[i]) {
      ++s.unreadable;
      if (s.unreadable_paths.size() < 20) s.unreadable_paths.push_back(msgs[i].path);
      continue;
    }
    const auto& p = prepared[i];
    uint32_t flags = p.mail_flags | (p.tokens_truncated ? kTokensTruncatedFlag : 0u);
    if (p.tokens_truncated) ++s.truncated;
    c.add(msgs[i].spam ? 1 : 0, msgs[i].split, msgs[i].source, static_cast<uint32_t>(i), flags,
          p.ids);
    ++s.messages;
    std::vector<int32_t>().swap(prepared[i].ids);  // free as we go
  }
  s.seconds = seconds();
  if (stats) *stats = std::move(s);
  return c;
}

}  // namespace sf::train
