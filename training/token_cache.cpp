// token_cache.cpp: see token_cache.h.
#include "training/token_cache.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sf::train {
namespace {

constexpr char kMagic[8] = {'S', 'F', 'T', 'O', 'K', 'C', '\r', '\n'};
constexpr char kEndMagic[8] = {'S', 'F', 'T', 'O', 'K', 'E', 'N', 'D'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv1a(const char* p, size_t n, uint64_t h = kFnvOffset) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= kFnvPrime;
  }
  return h;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    unsigned char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    out_.append(reinterpret_cast<const char*>(b), sizeof(T));
  }
  void bytes(const char* p, size_t n) { out_.append(p, n); }
  void name(const std::string& s) {
    put<uint16_t>(static_cast<uint16_t>(s.size()));
    bytes(s.data(), s.size());
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  Reader(const std::string& in, size_t end, const std::string& origin)
      : in_(in), end_(end), origin_(origin) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw TokenCacheError(origin_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(size_t n) const {
    if (end_ - pos_ < n) fail("truncated token cache file");
  }
  template <typename T>
  T get() {
    need(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i));
    pos_ += sizeof(T);
    return v;
  }
  std::string name() {
    auto n = get<uint16_t>();
    need(n);
    std::string s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  const char* at() const { return in_.data() + pos_; }
  void skip(size_t n) {
    need(n);
    pos_ += n;
  }
  size_t pos() const { return pos_; }

 private:
  const std::string& in_;
  size_t end_;
  size_t pos_ = 0;
  const std::string& origin_;
};

}  // namespace

std::vector<int32_t> TokenCache::ids32(size_t i) const {
  auto s = ids(i);
  return std::vector<int32_t>(s.begin(), s.end());
}

uint8_t TokenCache::split_id(const std::string& name) {
  for (size_t i = 0; i < splits.size(); ++i)
    if (splits[i] == name) return static_cast<uint8_t>(i);
  if (splits.size() >= 255) throw TokenCacheError("more than 255 split names");
  splits.push_back(name);
  return static_cast<uint8_t>(splits.size() - 1);
}

uint16_t TokenCache::source_id(const std::string& name) {
  for (size_t i = 0; i < sources.size(); ++i)
    if (sources[i] == name) return static_cast<uint16_t>(i);
  if (sources.size() >= 65535) throw TokenCacheError("more than 65535 source names");
  sources.push_back(name);
  return static_cast<uint16_t>(sources.size() - 1);
}

int TokenCache::find_split(const std::string& name) const {
  for (size_t i = 0; i < splits.size(); ++i)
    if (splits[i] == name) return static_cast<int>(i);
  return -1;
}

void TokenCache::add(uint8_t label, const std::string& split, const std::string& source,
                     uint32_t index, uint32_t flags, std::span<const int32_t> ids) {
  if (ids.size() < 2 || ids.size() > max_tokens || ids.size() > 65535)
    throw TokenCacheError("message " + std::to_string(index) + " has " +
                          std::to_string(ids.size()) + " tokens (allowed 2.." +
                          std::to_string(max_tokens) + ")");
  for (int32_t id : ids)
    if (id < 0 || static_cast<uint32_t>(id) >= vocab_size)
      throw TokenCacheError("token id " + std::to_string(id) + " outside the vocabulary");
  CachedMessage m;
  m.label = label ? 1 : 0;
  m.split = split_id(split);
  m.source = source_id(source);
  m.index = index;
  m.flags = flags;
  m.offset = tokens.size();
  m.length = static_cast<uint16_t>(ids.size());
  for (int32_t id : ids) tokens.push_back(static_cast<uint16_t>(id));
  messages.push_back(m);
}

std::vector<size_t> TokenCache::select(const std::string& split) const {
  std::vector<size_t> out;
  int s = find_split(split);
  if (s < 0) return out;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].split == s) out.push_back(i);
  return out;
}

void TokenCache::check_model(const model::Model& m) const {
  if (vocab_hash != sf::train::vocab_hash(m.vocab) ||
      vocab_size != static_cast<uint32_t>(m.config.vocab_size))
    throw TokenCacheError("the token cache was made for another vocabulary than the model's");
  if (max_tokens != static_cast<uint32_t>(m.config.max_tokens) ||
      tail_tokens != static_cast<uint32_t>(m.config.tail_tokens))
    throw TokenCacheError("the token cache was made with max_tokens " + std::to_string(max_tokens) +
                          ", tail_tokens " + std::to_string(tail_tokens) + "; the model says " +
                          std::to_string(m.config.max_tokens) + ", " +
                          std::to_string(m.config.tail_tokens) +
                          " (rerun prepare-data with this model)");
}

uint64_t vocab_hash(const std::vector<std::string>& vocab) {
  uint64_t h = kFnvOffset;
  for (const auto& t : vocab) {
    h = fnv1a(t.data(), t.size(), h);
    h = fnv1a("\n", 1, h);
  }
  return h;
}

TokenCache make_token_cache(const model::Model& m) {
  if (m.config.vocab_size > 65536)
    throw TokenCacheError("vocabulary of " + std::to_string(m.config.vocab_size) +
                          " entries does not fit 16-bit token ids");
  TokenCache c;
  c.vocab_hash = vocab_hash(m.vocab);
  c.vocab_size = static_cast<uint32_t>(m.config.vocab_size);
  c.max_tokens = static_cast<uint32_t>(m.config.max_tokens);
  c.tail_tokens = static_cast<uint32_t>(m.config.tail_tokens);
  return c;
}

std::string encode_token_cache(const TokenCache& c) {
  std::string out;
  out.reserve(64 + c.messages.size() * 14 + c.tokens.size() * 2);
  Writer w(out);
  w.bytes(kMagic, sizeof kMagic);
  w.put<uint32_t>(kVersion);
  w.put<uint64_t>(c.vocab_hash);
  w.put<uint32_t>(c.vocab_size);
  w.put<uint32_t>(c.max_tokens);
  w.put<uint32_t>(c.tail_tokens);
  w.put<uint64_t>(c.messages.size());
  w.put<uint64_t>(c.tokens.size());
  w.put<uint32_t>(static_cast<uint32_t>(c.splits.size()));
  w.put<uint32_t>(static_cast<uint32_t>(c.sources.size()));
  for (const auto& s : c.splits) w.name(s);
  for (const auto& s : c.sources) w.name(s);
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const auto& m = c.messages[i];
    w.put<uint8_t>(m.label);
    w.put<uint8_t>(m.split);
    w.put<uint16_t>(m.source);
    w.put<uint32_t>(m.index);
    w.put<uint32_t>(m.flags);
    w.put<uint16_t>(m.length);
    for (uint16_t id : c.ids(i)) w.put<uint16_t>(id);
  }
  uint64_t sum = fnv1a(out.data(), out.size());
  w.put<uint64_t>(sum);
  w.bytes(kEndMagic, sizeof kEndMagic);
  return out;
}

TokenCache decode_token_cache(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw TokenCacheError(origin + ": not a Spamformer token cache (bad magic)");
  if (bytes.size() < sizeof kMagic + 4 + 16 ||
      std::memcmp(bytes.data() + bytes.size() - 8, kEndMagic, 8) != 0)
    throw TokenCacheError(origin + ": truncated token cache file (no end marker)");
  const size_t body_end = bytes.size() - 16;
  Reader r(bytes, body_end, origin);
  r.skip(sizeof kMagic);
  uint32_t version = r.get<uint32_t>();
  if (version != kVersion)
    throw TokenCacheError(origin + ": token cache version " + std::to_string(version) +
                          " (this build reads version " + std::to_string(kVersion) + ")");
  {
    Reader t(bytes, bytes.size(), origin);
    t.skip(body_end);
    uint64_t stored = t.get<uint64_t>();
    if (stored != fnv1a(bytes.data(), body_end))
      throw TokenCacheError(origin + ": corrupt token cache (checksum mismatch)");
  }
  TokenCache c;
  c.vocab_hash = r.get<uint64_t>();
  c.vocab_size = r.get<uint32_t>();
  c.max_tokens = r.get<uint32_t>();
  c.tail_tokens = r.get<uint32_t>();
  uint64_t n_messages = r.get<uint64_t>();
  uint64_t n_tokens = r.get<uint64_t>();
  uint32_t n_splits = r.get<uint32_t>();
  uint32_t n_sources = r.get<uint32_t>();
  if (c.vocab_size == 0 || c.vocab_size > 65536) r.fail("bad vocabulary size");
  if (c.max_tokens < 2 || c.max_tokens > 65535 || c.tail_tokens > c.max_tokens)
    r.fail("bad max_tokens/tail_tokens");
  if (n_splits > 255 || n_sources > 65535) r.fail("bad name table sizes");
  // Each message takes at least 18 bytes and each token 2: bound before reserving.
  if (n_messages > body_end / 18 || n_tokens > body_end / 2) r.fail("counts exceed the file size");
  for (uint32_t i = 0; i < n_splits; ++i) c.splits.push_back(r.name());
  for (uint32_t i = 0; i < n_sources; ++i) c.sources.push_back(r.name());
  c.messages.reserve(n_messages);
  c.tokens.reserve(n_tokens);
  for (uint64_t i = 0; i < n_messages; ++i) {
    CachedMessage m;
    m.label = r.get<uint8_t>();
    m.split = r.get<uint8_t>();
    m.source = r.get<uint16_t>();
    m.index = r.get<uint32_t>();
    m.flags = r.get<uint32_t>();
    m.length = r.get<uint16_t>();
    if (m.label > 1) r.fail("bad label in message " + std::to_string(i));
    if (m.split >= n_splits || m.source >= n_sources)
      r.fail("split or source id out of range in message " + std::to_string(i));
    if (m.length < 2 || m.length > c.max_tokens)
      r.fail("bad token count in message " + std::to_string(i));
    m.offset = c.tokens.size();
    r.need(2u * m.length);
    for (uint16_t k = 0; k < m.length; ++k) {
      uint16_t id = r.get<uint16_t>();
      if (id >= c.vocab_size) r.fail("token id out of range in message " + std::to_string(i));
      c.tokens.push_back(id);
    }
    c.messages.push_back(m);
  }
  if (c.tokens.size() != n_tokens) r.fail("token count differs from the header");
  if (r.pos() != body_end) r.fail("trailing bytes after the last message");
  return c;
}

void write_token_cache(const TokenCache& c, const std::string& path) {
  std::string bytes = encode_token_cache(c);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw TokenCacheError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw TokenCacheError("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

TokenCache read_token_cache(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenCacheError("cannot open token cache " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return decode_token_cache(ss.str(), path);
}

}  // namespace sf::train
