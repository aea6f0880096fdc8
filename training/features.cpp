// features.cpp: see features.h.
#include "training/features.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sf::train {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
constexpr char kMagic[8] = {'S', 'F', 'F', 'E', 'A', 'T', '0', '1'};

uint64_t fnv(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

uint64_t encoder_fingerprint(const model::Model& m) {
  uint64_t h = kFnvOffset;
  for (const auto& [name, t] : m.tensors) {
    if (name.rfind("classifier.", 0) == 0) continue;
    h = fnv(name.data(), name.size(), h);
    h = fnv(t.data.data(), t.data.size() * sizeof(float), h);
  }
  const auto& c = m.config;
  int arch[] = {c.layers, c.hidden, c.heads, c.intermediate, c.max_tokens, c.tail_tokens};
  h = fnv(arch, sizeof arch, h);
  return fnv(c.pooling.data(), c.pooling.size(), h);
}

uint64_t messages_fingerprint(const TokenCache& c, const std::vector<size_t>& which) {
  uint64_t h = kFnvOffset;
  for (size_t i : which) {
    auto ids = c.ids(i);
    uint8_t label = c.messages[i].label;
    h = fnv(&label, 1, h);
    uint16_t len = static_cast<uint16_t>(ids.size());
    h = fnv(&len, 2, h);
    h = fnv(ids.data(), ids.size() * 2, h);
  }
  return h;
}

std::vector<float> compute_pooled(model::Backend& backend, const TokenCache& c,
                                  const std::vector<size_t>& which, int hidden, size_t batch,
                                  const std::function<void(size_t, size_t)>& progress) {
  const size_t h = static_cast<size_t>(hidden);
  std::vector<float> out(which.size() * h);
  model::Batch b;
  for (size_t s = 0; s < which.size(); s += batch) {
    size_t e = std::min(which.size(), s + batch);
    b.clear();
    for (size_t t = s; t < e; ++t) {
      auto ids = c.ids32(which[t]);
      b.add(ids);
    }
    backend.pooled(b, std::span<float>(out.data() + s * h, (e - s) * h));
    if (progress) progress(e, which.size());
  }
  return out;
}

void save_features(const std::string& path, uint64_t key, int hidden, const std::vector<float>& x) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    uint64_t rows = x.size() / static_cast<size_t>(hidden);
    uint32_t hid = static_cast<uint32_t>(hidden);
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&key), 8);
    out.write(reinterpret_cast<const char*>(&hid), 4);
    out.write(reinterpret_cast<const char*>(&rows), 8);
    out.write(reinterpret_cast<const char*>(x.data()),
              static_cast<std::streamsize>(x.size() * sizeof(float)));
    out.close();
    if (!out) throw std::runtime_error("cannot write features file " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

bool load_features(const std::string& path, uint64_t key, int hidden, std::vector<float>& x) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char magic[8];
  uint64_t k = 0, rows = 0;
  uint32_t hid = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&k), 8);
  in.read(reinterpret_cast<char*>(&hid), 4);
  in.read(reinterpret_cast<char*>(&rows), 8);
  if (!in || std::memcmp(magic, kMagic, 8) != 0)
    throw std::runtime_error(path + ": not a Spamformer features file");
  if (k != key || hid != static_cast<uint32_t>(hidden)) return false;
  x.resize(rows * hid);
  in.read(reinterpret_cast<char*>(x.data()),
          static_cast<std::streamsize>(x.size() * sizeof(float)));
  if (in.gcount() != static_cast<std::streamsize>(x.size() * sizeof(float)))
    throw std::runtime_error(path + ": truncated features file");
  return true;
}

}  // namespace sf::train
