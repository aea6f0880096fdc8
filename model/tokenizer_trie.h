// tokenizer_trie.h: the WordPiece vocabulary as a byte trie, for longest-prefix matching.
//
// What it does: stores every token text of a vocabulary in a trie over UTF-8 bytes, so
// WordPiece's greedy "longest piece first" step is one walk over the remaining word
// instead of one hash lookup per candidate length. "##" continuation pieces are the
// subtree under the "##" node. Transitions live in one open-addressing hash table keyed
// by (node, byte); the two roots (word start, "##") have direct 256-entry tables. Most
// words of ordinary text are whole tokens, so a hash table of short token texts (stored
// inline) answers "is the whole rest of the word a token?" with one probe before the walk.
// Promises: find() and longest_prefix() are exact (same answers as a dictionary of token
// texts); when a text occurs twice in the vocabulary the later id wins. Read-only after
// construction, so safe for concurrent readers. No allocation after construction.
// Failure: the constructor throws std::invalid_argument when the vocabulary is too large
// for 24-bit node numbers (more than ~16 MB of token text), the model file's fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf::tok {

class PieceTrie {
 public:
  explicit PieceTrie(const std::vector<std::string>& vocab);

  // Id of exactly this token text, or -1. The empty text is never a token.
  int32_t find(std::string_view text) const;

  // The longest token that is a prefix of `word` (continuation: of "##" + word) and is at
  // least one byte long. Returns its id and sets *len to the bytes of `word` it covers,
  // or returns -1. For valid UTF-8 tokens and words the match ends on a character
  // boundary.
  int32_t longest_prefix(std::string_view word, bool continuation, size_t* len) const {
    if (word.empty()) return -1;
    if (word.size() <= kInlineMax) {
      const int32_t whole = whole_find(word, continuation);
      if (whole >= 0) {
        *len = word.size();
        return whole;
      }
    }
    const uint32_t* first = continuation ? cont_next_ : root_next_;
    uint32_t node = first[static_cast<unsigned char>(word[0])];
    int32_t best = -1;
    size_t best_len = 0;
    size_t i = 1;
    while (node != kNone) {
      const int32_t id = term_[node];
      if (id >= 0) {
        best = id;
        best_len = i;
      }
      if (i == word.size()) break;
      node = child(node, static_cast<unsigned char>(word[i]));
      ++i;
    }
    *len = best_len;
    return best;
  }

  size_t node_count() const { return term_.size(); }

 private:
  // Whole-token table: token texts of up to kInlineMax bytes (after "##" for continuation
  // pieces) packed into 12 bytes plus a tag (length, continuation), so that a probe is
  // three integer compares. Longer tokens, and ids >= 2^24, are only in the trie, which is
  // always exact.
  static constexpr size_t kInlineMax = 11;
  struct Key {
    uint64_t lo = 0;
    uint32_t hi = 0;
    uint32_t tag = 0;  // length | continuation << 7
  };
  struct Whole {
    uint64_t lo = 0;
    uint32_t hi = 0;
    uint32_t packed = kEmptyWhole;  // id << 8 | tag
  };
  static constexpr uint32_t kEmptyWhole = 0xFFFFFFFFu;  // tag 0xFF is never a real tag
  static_assert(sizeof(Whole) == 16);

  static uint32_t load4(const char* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
  }
  static uint32_t byte_at(const char* p, size_t i) { return static_cast<unsigned char>(p[i]); }
  // An injective packing of the n (1..11) bytes for a given n, reading only inside them
  // (overlapping loads rather than a byte-by-byte copy, which would stall on
  // store-to-load forwarding).
  static Key make_key(const char* p, size_t n, bool cont) {
    Key k;
    if (n >= 8) {
      __builtin_memcpy(&k.lo, p, 8);
      if (n > 8) k.hi = byte_at(p, 8) | byte_at(p, 8 + (n - 8) / 2) << 8 | byte_at(p, n - 1) << 16;
    } else if (n >= 4) {
      k.lo = load4(p) | uint64_t{load4(p + n - 4)} << 32;
    } else {
      k.lo = byte_at(p, 0) | byte_at(p, n / 2) << 8 | byte_at(p, n - 1) << 16;
    }
    k.tag = static_cast<uint32_t>(n) | (cont ? 0x80u : 0u);
    return k;
  }
  static uint64_t hash_key(const Key& k) {
    uint64_t x =
        k.lo * 0x9E3779B97F4A7C15ull ^ (uint64_t{k.hi} << 8 | k.tag) * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return x;
  }
  int32_t whole_find(std::string_view w, bool cont) const {
    const Key k = make_key(w.data(), w.size(), cont);
    uint64_t h = hash_key(k) & whole_mask_;
    for (;;) {
      const Whole& e = whole_[h];
      if (e.lo == k.lo && e.hi == k.hi && (e.packed & 0xFFu) == k.tag)
        return static_cast<int32_t>(e.packed >> 8);
      if (e.packed == kEmptyWhole) return -1;
      h = (h + 1) & whole_mask_;
    }
  }

  std::vector<Whole> whole_;
  uint64_t whole_mask_ = 0;

  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  static uint64_t slot_hash(uint32_t key, int shift) {
    return (key * 0x9E3779B97F4A7C15ull) >> shift;
  }
  uint32_t child(uint32_t node, unsigned char byte) const {
    const uint32_t key = (node << 8) | byte;
    uint64_t h = slot_hash(key, shift_);
    for (;;) {
      const uint64_t s = slots_[h];
      if (static_cast<uint32_t>(s >> 32) == key) return static_cast<uint32_t>(s);
      if (s == kEmpty) return kNone;
      h = (h + 1) & mask_;
    }
  }

  std::vector<int32_t> term_;    // token id ending at each node, or -1
  std::vector<uint64_t> slots_;  // (node << 8 | byte) << 32 | child, or kEmpty
  uint64_t mask_ = 0;
  int shift_ = 64;
  uint32_t root_next_[256];  // children of the root
  uint32_t cont_next_[256];  // children of the "##" node (all kNone if there is none)
};

}  // namespace sf::tok
