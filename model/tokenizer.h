// tokenizer.h: BERT WordPiece tokenization (uncased), as the encoder expects it.
//
// What it does: turns UTF-8 text into word-piece ids of a BERT vocabulary, the way
// Hugging Face's slow BertTokenizer does for all-MiniLM-L6-v2 (do_lower_case=True):
//   1. decode UTF-8; ill-formed bytes decode like Python's
//      bytes.decode("utf-8", errors="replace") (each maximal ill-formed subpart becomes
//      U+FFFD), and since step 2 drops U+FFFD, invalid bytes simply disappear: "ab\xFFcd"
//      tokenizes like "abcd" (they do not split the word);
//   2. clean: drop U+0000, U+FFFD and every control, format, unassigned, private-use or
//      surrogate code point (general category C*, except \t \n \r), map whitespace
//      (space, \t, \n, \r, category Zs, and U+2028/U+2029, which Python's str.split()
//      splits on) to a word break;
//   3. put word breaks around CJK ideographs (BERT's ranges; option tokenize_chinese_chars);
//   4. per whitespace-separated word: lower-case like Python's str.lower() (utf8proc's
//      simple mapping, plus the two places where Python differs: U+0130 'İ' becomes
//      "i" + U+0307, and capital sigma becomes final 'ς' by Unicode's Final_Sigma rule),
//      then NFD and drop nonspacing marks (category Mn) (option strip_accents);
//   5. split off punctuation as single-character words (ASCII ! to /, : to @, [ to `,
//      { to ~, and Unicode categories P*);
//   6. greedy longest-match-first WordPiece with "##" continuation pieces; a word longer
//      than max_input_chars_per_word code points, or one that the vocabulary cannot
//      cover, becomes a single [UNK].
// Deliberate differences from Hugging Face's tokenize(), all documented in
// tests/data/tokenizer/README.md:
//   - text is only ever text: a literal "[CLS]" or "[SEP]" in the input is tokenized as
//     "[", "cl", "##s", "]" (HF would emit the special token; we never let mail inject
//     structure). The golden file is made with split_special_tokens=True accordingly.
//   - Unicode data is utf8proc's (Unicode 15 with utf8proc 2.8) where Python 3.11 has
//     Unicode 14: characters assigned after Unicode 14 are kept here where Python drops
//     them as unassigned.
//   - With strip_accents off, HF's NFC step is applied per word (same result).
// Promises: tokenize() is a pure function of (vocabulary, options, bytes); every input
// byte string is accepted; a WordPiece is immutable after construction and its const
// methods may be called from many threads at once. The hot path does no per-character
// heap allocation (a few buffers per call, grown geometrically).
// Failure: the constructor throws std::invalid_argument when the vocabulary lacks one of
// [UNK] [CLS] [SEP] [PAD], has a token that is not valid UTF-8, or is too large
// (the model file's fault); from_vocab_file throws std::runtime_error when the file cannot
// be read (configuration); encode() throws std::invalid_argument for a Truncation with
// max_tokens < 2 or tail_tokens > max_tokens - 2 (the caller's fault); token() throws
// std::out_of_range for an id outside the vocabulary (a bug in the caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sf::tok {

struct Options {
  bool lowercase = true;
  bool strip_accents = true;
  bool tokenize_chinese_chars = true;
  size_t max_input_chars_per_word = 100;
};

// encode(): at most max_tokens ids including [CLS] and [SEP]. When the word pieces do not
// fit, the first (max_tokens - 2 - tail_tokens) and the last tail_tokens pieces are kept.
struct Truncation {
  size_t max_tokens = 256;  // including [CLS] and [SEP]
  size_t tail_tokens = 64;  // when cut: keep the first (max_tokens-2-tail) and the last tail
};

class PieceTrie;  // tokenizer_trie.h

class WordPiece {
 public:
  // vocab[i] is the text of token id i (vocab.txt order). If a token text occurs twice,
  // the later id wins for lookups (as in Python's dict built from vocab.txt).
  explicit WordPiece(std::vector<std::string> vocab, Options opts = {});
  // One token per line ("\n" or "\r\n"); a final newline does not add an empty token.
  static WordPiece from_vocab_file(const std::string& path, Options opts = {});

  WordPiece(WordPiece&&) noexcept;
  WordPiece& operator=(WordPiece&&) noexcept;
  WordPiece(const WordPiece&) = delete;
  WordPiece& operator=(const WordPiece&) = delete;
  ~WordPiece();

  // Word-piece ids of the text, no special tokens.
  std::vector<int32_t> tokenize(std::string_view utf8) const;
  // Appends the word-piece ids of the text to out (no special tokens).
  void tokenize_into(std::string_view utf8, std::vector<int32_t>& out) const;
  // [CLS] pieces [SEP], cut to t.max_tokens by the head + tail rule above. *truncated (if
  // given) says whether pieces were dropped. Long texts are not tokenized in full: only a
  // head and a tail slice (cut at ASCII whitespace), with the same result.
  std::vector<int32_t> encode(std::string_view utf8, const Truncation& t = {},
                              bool* truncated = nullptr) const;

  int32_t unk_id() const { return unk_; }
  int32_t cls_id() const { return cls_; }
  int32_t sep_id() const { return sep_; }
  int32_t pad_id() const { return pad_; }
  size_t vocab_size() const { return vocab_.size(); }
  const std::string& token(int32_t id) const;
  // Id of an exact token text (e.g. "##ing"), or -1.
  int32_t find(std::string_view token_text) const;
  const Options& options() const { return opts_; }

 private:
  struct Scratch;
  void flush_word(Scratch& s, std::vector<int32_t>& out) const;
  void flush_raw(Scratch& s, std::vector<int32_t>& out) const;
  void wordpiece(std::string_view piece, size_t chars, std::vector<int32_t>& out) const;
  void process_ascii(Scratch& s, const unsigned char* b, const unsigned char* e,
                     std::vector<int32_t>& out) const;
  void process_unicode_word(Scratch& s, std::vector<int32_t>& out) const;
  // Tokenizes until out holds at least stop_after ids (or the text ends); returns the
  // number of bytes consumed, always at a word boundary.
  size_t tokenize_prefix(std::string_view utf8, size_t stop_after, std::vector<int32_t>& out) const;

  std::vector<std::string> vocab_;
  Options opts_;
  std::unique_ptr<PieceTrie> trie_;
  int32_t unk_ = -1, cls_ = -1, sep_ = -1, pad_ = -1;
  int32_t ascii_id_[128];  // id of each single ASCII character as a word start, or -1
};

}  // namespace sf::tok
