// tokenizer_trie.cpp: see tokenizer_trie.h.
#include "model/tokenizer_trie.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace sf::tok {

PieceTrie::PieceTrie(const std::vector<std::string>& vocab) {
  constexpr uint32_t kMaxNodes = 0xFFFFFEu;      // keys (node << 8 | byte) stay below 2^32 - 1
  std::unordered_map<uint32_t, uint32_t> edges;  // (node << 8 | byte) -> child, root excluded
  for (auto& n : root_next_) n = kNone;
  term_.push_back(-1);  // node 0: the root
  for (size_t id = 0; id < vocab.size(); ++id) {
    const std::string& text = vocab[id];
    if (text.empty()) continue;
    uint32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const auto byte = static_cast<unsigned char>(text[i]);
      uint32_t next;
      if (node == 0) {
        next = root_next_[byte];
      } else {
        auto it = edges.find((node << 8) | byte);
        next = it == edges.end() ? kNone : it->second;
      }
      if (next == kNone) {
        if (term_.size() >= kMaxNodes)
          throw std::invalid_argument("vocabulary too large for the tokenizer trie");
        next = static_cast<uint32_t>(term_.size());
        term_.push_back(-1);
        if (node == 0) {
          root_next_[byte] = next;
        } else {
          edges.emplace((node << 8) | byte, next);
        }
      }
      node = next;
    }
    term_[node] = static_cast<int32_t>(id);  // a later duplicate wins, as in a Python dict
  }

  // Open addressing, load factor <= 1/2.
  const uint64_t capacity = std::bit_ceil(std::max<uint64_t>(16, 2 * edges.size()));
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  for (const auto& [key, next] : edges) {
    uint64_t h = slot_hash(key, shift_);
    while (slots_[h] != kEmpty) h = (h + 1) & mask_;
    slots_[h] = (uint64_t{key} << 32) | next;
  }

  // Whole-token table, filled from the trie so that duplicates resolve the same way.
  std::vector<std::pair<std::string_view, bool>> whole;  // (text, continuation)
  for (const std::string& text : vocab) {
    const bool cont = text.size() > 2 && text[0] == '#' && text[1] == '#';
    const std::string_view key = cont ? std::string_view(text).substr(2) : std::string_view(text);
    if (!key.empty() && key.size() <= kInlineMax) whole.emplace_back(key, cont);
  }
  const uint64_t wcap = std::bit_ceil(std::max<uint64_t>(16, 2 * whole.size()));
  whole_.assign(wcap, Whole{});
  whole_mask_ = wcap - 1;
  for (const auto& [key, cont] : whole) {
    const int32_t id = find(cont ? "##" + std::string(key) : std::string(key));
    if (id >= (1 << 24)) continue;  // does not fit the packing: the trie answers
    const Key k = make_key(key.data(), key.size(), cont);
    uint64_t h = hash_key(k) & whole_mask_;
    for (;;) {
      Whole& e = whole_[h];
      const bool same = e.lo == k.lo && e.hi == k.hi && (e.packed & 0xFFu) == k.tag;
      if (same || e.packed == kEmptyWhole) {
        e.lo = k.lo;
        e.hi = k.hi;
        e.packed = static_cast<uint32_t>(id) << 8 | k.tag;
        break;
      }
      h = (h + 1) & whole_mask_;
    }
  }

  for (auto& n : cont_next_) n = kNone;
  const uint32_t hash1 = root_next_[static_cast<unsigned char>('#')];
  const uint32_t hash2 = hash1 == kNone ? kNone : child(hash1, '#');
  if (hash2 != kNone) {
    for (int b = 0; b < 256; ++b) cont_next_[b] = child(hash2, static_cast<unsigned char>(b));
  }
}

int32_t PieceTrie::find(std::string_view text) const {
  if (text.empty()) return -1;
  uint32_t node = root_next_[static_cast<unsigned char>(text[0])];
  for (size_t i = 1; i < text.size() && node != kNone; ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
  }
  return node == kNone ? -1 : term_[node];
}

}  // namespace sf::tok
