// token_cache.h: a compact binary file of tokenized, labelled mail, so that
// training never re-parses mail and its data travels to a GPU machine.
//
// What it does: holds, per message, its label (0 ham, 1 spam), split and
// source (indexes into name tables), the index of the message in the listing
// it came from, the extraction flags, and its WordPiece ids as uint16 (the
// vocabulary must have at most 65536 entries). `write_token_cache` stores it;
// `read_token_cache` loads it back.
// File layout (little-endian): header {magic "SFTOKC\r\n", u32 version,
// u64 vocab_hash, u32 vocab_size, u32 max_tokens, u32 tail_tokens,
// u64 messages, u64 tokens, u32 split names, u32 source names, names as u16
// length + bytes}; then per message {u8 label, u8 split, u16 source, u32 index,
// u32 flags, u16 count, count x u16 id}; then a trailer {u64 FNV-1a of every
// byte before it, magic "SFTOKEND"}.
// Promises: a cache returned by read_token_cache is internally consistent
// (every id < vocab_size, every length 2..max_tokens, label 0/1, split and
// source ids inside their tables, counts as the header says, checksum right).
// Failure: TokenCacheError naming the file and what is wrong (truncated,
// corrupt, another version, written for another vocabulary): the file's fault.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/model.h"

namespace sf::train {

struct TokenCacheError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CachedMessage {
  uint8_t label = 0;    // 1 = spam
  uint8_t split = 0;    // index into TokenCache::splits
  uint16_t source = 0;  // index into TokenCache::sources
  uint32_t index = 0;   // position in the listing it came from (manifest row order)
  uint32_t flags = 0;   // sf::mail::Flag bits (+ bit 31: tokens truncated)
  uint64_t offset = 0;  // first token in TokenCache::tokens
  uint16_t length = 0;  // number of tokens, [CLS] and [SEP] included
};

inline constexpr uint32_t kTokensTruncatedFlag = 1u << 31;

struct TokenCache {
  uint64_t vocab_hash = 0;
  uint32_t vocab_size = 0;
  uint32_t max_tokens = 0;
  uint32_t tail_tokens = 0;
  std::vector<std::string> splits;   // e.g. train, val, test
  std::vector<std::string> sources;  // e.g. spamassassin, trec07
  std::vector<CachedMessage> messages;
  std::vector<uint16_t> tokens;  // all messages' ids end to end

  std::span<const uint16_t> ids(size_t i) const {
    return {tokens.data() + messages[i].offset, messages[i].length};
  }
  std::vector<int32_t> ids32(size_t i) const;
  // Index of a split / source name, adding it when absent (writers) ...
  uint8_t split_id(const std::string& name);
  uint16_t source_id(const std::string& name);
  // ... or -1 when absent (readers).
  int find_split(const std::string& name) const;
  // Appends one message; ids must fit uint16 and the vocabulary.
  void add(uint8_t label, const std::string& split, const std::string& source, uint32_t index,
           uint32_t flags, std::span<const int32_t> ids);
  // Messages of one split, in file order.
  std::vector<size_t> select(const std::string& split) const;
  // Throws TokenCacheError unless the cache was made for this model's
  // vocabulary and truncation settings.
  void check_model(const model::Model& m) const;
};

// FNV-1a 64 of the vocabulary (tokens joined by '\n'): identifies it.
uint64_t vocab_hash(const std::vector<std::string>& vocab);
// An empty cache set up for this model (hash, sizes, truncation).
TokenCache make_token_cache(const model::Model& m);

std::string encode_token_cache(const TokenCache& c);
TokenCache decode_token_cache(const std::string& bytes, const std::string& origin);
void write_token_cache(const TokenCache& c, const std::string& path);  // atomic (tmp + rename)
TokenCache read_token_cache(const std::string& path);

}  // namespace sf::train
