// test_training_data.cpp: the token cache (training/token_cache.h) and the
// corpus readers (training/corpus.h): round trip, refusal of damaged files,
// label folders, mbox splitting, and tokenization in listing order. All mail
// here is written by the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "model/pipeline.h"
#include "training/corpus.h"
#include "training/token_cache.h"

namespace fs = std::filesystem;
using sf::train::TokenCache;
using sf::train::TokenCacheError;

namespace {

sf::model::Model tiny_vocab_model() {
  sf::model::Model m;
  m.vocab = {"[PAD]",   "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello",   "world", "cheap", "pills",
             "meeting", "at",    "noon",  "buy",   "now",    "example", ".",     "com",   "!"};
  m.config.vocab_size = static_cast<int>(m.vocab.size());
  m.config.max_tokens = 16;
  m.config.tail_tokens = 4;
  m.config.max_positions = 32;
  return m;
}

TokenCache sample_cache() {
  auto m = tiny_vocab_model();
  TokenCache c = sf::train::make_token_cache(m);
  std::vector<int32_t> a{2, 5, 6, 3}, b{2, 7, 8, 12, 13, 3}, d{2, 9, 10, 11, 3};
  c.add(0, "train", "srcA", 0, 0, a);
  c.add(1, "train", "srcB", 1, 5, b);
  c.add(0, "val", "srcA", 2, sf::train::kTokensTruncatedFlag, d);
  c.add(1, "test", "srcB", 3, 0, b);
  return c;
}

fs::path temp_dir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("sf_training_data_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string mail(const std::string& subject, const std::string& body) {
  return "From: Someone <someone@example.com>\r\nSubject: " + subject +
         "\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n";
}

}  // namespace

TEST(TokenCache, RoundTripKeepsEveryField) {
  TokenCache c = sample_cache();
  std::string bytes = sf::train::encode_token_cache(c);
  TokenCache r = sf::train::decode_token_cache(bytes, "mem");
  EXPECT_EQ(r.vocab_hash, c.vocab_hash);
  EXPECT_EQ(r.vocab_size, 18u);
  EXPECT_EQ(r.max_tokens, 16u);
  EXPECT_EQ(r.tail_tokens, 4u);
  EXPECT_EQ(r.splits, (std::vector<std::string>{"train", "val", "test"}));
  EXPECT_EQ(r.sources, (std::vector<std::string>{"srcA", "srcB"}));
  ASSERT_EQ(r.messages.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.messages[i].label, c.messages[i].label);
    EXPECT_EQ(r.messages[i].split, c.messages[i].split);
    EXPECT_EQ(r.messages[i].source, c.messages[i].source);
    EXPECT_EQ(r.messages[i].index, c.messages[i].index);
    EXPECT_EQ(r.messages[i].flags, c.messages[i].flags);
    EXPECT_EQ(r.ids32(i), c.ids32(i));
  }
  EXPECT_EQ(r.select("train"), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(r.select("test"), (std::vector<size_t>{3}));
  EXPECT_TRUE(r.select("nope").empty());
  // Compact: 2 bytes per token plus 14 per message plus a small header.
  EXPECT_LT(bytes.size(), 2 * c.tokens.size() + 14 * c.messages.size() + 120);
}

TEST(TokenCache, RefusesTruncatedFilesAtEveryLength) {
  std::string bytes = sf::train::encode_token_cache(sample_cache());
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(sf::train::decode_token_cache(bytes.substr(0, n), "cut"), TokenCacheError)
        << "length " << n;
}

TEST(TokenCache, RefusesAnyFlippedByte) {
  std::string bytes = sf::train::encode_token_cache(sample_cache());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    EXPECT_THROW(sf::train::decode_token_cache(bad, "flip"), TokenCacheError) << "byte " << i;
  }
}

TEST(TokenCache, ErrorsNameTheProblem) {
  std::string bytes = sf::train::encode_token_cache(sample_cache());
  try {
    sf::train::decode_token_cache("not a cache at all", "x.bin");
    FAIL();
  } catch (const TokenCacheError& e) {
    EXPECT_NE(std::string(e.what()).find("x.bin"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos);
  }
  try {
    sf::train::decode_token_cache(bytes.substr(0, bytes.size() - 3), "y.bin");
    FAIL();
  } catch (const TokenCacheError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
  EXPECT_THROW(sf::train::read_token_cache("/nonexistent/cache.bin"), TokenCacheError);
}

TEST(TokenCache, RefusesIdsOutsideTheVocabularyAndBadLengths) {
  TokenCache c = sample_cache();
  std::vector<int32_t> bad_id{2, 18, 3}, too_long(17, 5), too_short{2};
  EXPECT_THROW(c.add(0, "train", "s", 9, 0, bad_id), TokenCacheError);
  EXPECT_THROW(c.add(0, "train", "s", 9, 0, too_long), TokenCacheError);
  EXPECT_THROW(c.add(0, "train", "s", 9, 0, too_short), TokenCacheError);
}

TEST(TokenCache, ChecksTheModelItWasMadeFor) {
  auto m = tiny_vocab_model();
  TokenCache c = sample_cache();
  EXPECT_NO_THROW(c.check_model(m));
  auto other = m;
  other.vocab[7] = "expensive";
  EXPECT_THROW(c.check_model(other), TokenCacheError);
  auto longer = m;
  longer.config.max_tokens = 20;
  EXPECT_THROW(c.check_model(longer), TokenCacheError);
}

TEST(TokenCache, FileWriteAndReadRoundTrip) {
  auto dir = temp_dir("file");
  TokenCache c = sample_cache();
  sf::train::write_token_cache(c, (dir / "c.bin").string());
  auto r = sf::train::read_token_cache((dir / "c.bin").string());
  EXPECT_EQ(r.tokens, c.tokens);
  EXPECT_FALSE(fs::exists(dir / "c.bin.tmp"));
  fs::remove_all(dir);
}

TEST(Corpus, DirectoryLabelsComeFromFolderNames) {
  auto dir = temp_dir("maildir");
  write_file(dir / "alice" / "Junk" / "cur" / "1:2,S", mail("a", "buy now"));
  write_file(dir / "alice" / "INBOX" / "new" / "2", mail("b", "hello"));
  write_file(dir / "alice" / "INBOX" / "tmp" / "3", mail("c", "in delivery"));
  write_file(dir / "spam" / "x.eml", mail("d", "cheap pills"));
  write_file(dir / "ham" / ".hidden", mail("e", "dot file"));
  write_file(dir / "misc" / "y.eml", mail("f", "no label"));
  size_t unlabelled = 0;
  auto l = sf::train::list_directory(dir.string(), 0, 0, &unlabelled);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(unlabelled, 1u);
  EXPECT_NE(l[0].path.find("INBOX"), std::string::npos);
  EXPECT_FALSE(l[0].spam);
  EXPECT_NE(l[1].path.find("Junk"), std::string::npos);
  EXPECT_TRUE(l[1].spam);
  EXPECT_TRUE(l[2].spam);
  for (auto& m : l) EXPECT_EQ(m.split, "train");
  EXPECT_THROW(sf::train::list_directory((dir / "absent").string(), 0, 0), sf::train::CorpusError);
  fs::remove_all(dir);
}

TEST(Corpus, HashSplitIsStableAndRoughlyProportional) {
  size_t val = 0, test = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string k = "msg" + std::to_string(i);
    auto s = sf::train::hash_split(k, 10, 20);
    EXPECT_EQ(s, sf::train::hash_split(k, 10, 20));
    val += s == "val";
    test += s == "test";
  }
  EXPECT_NEAR(static_cast<double>(val), 1000, 150);
  EXPECT_NEAR(static_cast<double>(test), 2000, 200);
}

TEST(Corpus, MboxIsSplitAtFromLines) {
  auto dir = temp_dir("mbox");
  std::string box = "From a@b Mon Jan  1 00:00:00 2024\n" + mail("one", "hello world") +
                    "\nFrom c@d Mon Jan  1 00:00:01 2024\n" + mail("two", "meeting at noon") +
                    "\n>From the body, quoted\n";
  write_file(dir / "spam.mbox", box);
  auto l = sf::train::list_mbox((dir / "spam.mbox").string(), true, 0, 0);
  ASSERT_EQ(l.size(), 2u);
  std::ifstream in(dir / "spam.mbox", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  std::string first = all.substr(l[0].offset, l[0].length);
  std::string second = all.substr(l[1].offset, l[1].length);
  EXPECT_EQ(first.rfind("From: Someone", 0), 0u);
  EXPECT_NE(first.find("Subject: one"), std::string::npos);
  EXPECT_EQ(first.find("Subject: two"), std::string::npos);
  EXPECT_NE(second.find("Subject: two"), std::string::npos);
  EXPECT_TRUE(l[0].spam && l[1].spam);
  EXPECT_EQ(l[0].source, "spam");
  write_file(dir / "bad.mbox", "Subject: not an mbox\n");
  EXPECT_THROW(sf::train::list_mbox((dir / "bad.mbox").string(), false, 0, 0),
               sf::train::CorpusError);
  fs::remove_all(dir);
}

TEST(Corpus, TokenizesInListingOrderWhateverTheThreadCount) {
  auto dir = temp_dir("tok");
  auto m = tiny_vocab_model();
  sf::model::Pipeline p(m, {});
  std::vector<sf::train::LabelledMessage> msgs;
  const char* bodies[] = {"hello world", "cheap pills buy now", "meeting at noon",
                          "buy buy buy now now now cheap cheap pills pills pills hello world"};
  for (int i = 0; i < 4; ++i) {
    auto f = dir / ("m" + std::to_string(i) + ".eml");
    write_file(f, mail("s" + std::to_string(i), bodies[i]));
    sf::train::LabelledMessage lm;
    lm.path = f.string();
    lm.spam = i % 2 == 1;
    lm.split = i == 2 ? "val" : "train";
    lm.source = "synthetic";
    msgs.push_back(lm);
  }
  sf::train::LabelledMessage missing = msgs[0];
  missing.path = (dir / "absent.eml").string();
  msgs.insert(msgs.begin() + 1, missing);
  sf::train::TokenizeStats s1, s4;
  auto c1 = sf::train::tokenize_corpus(msgs, m, p, 1, &s1);
  auto c4 = sf::train::tokenize_corpus(msgs, m, p, 4, &s4);
  EXPECT_EQ(sf::train::encode_token_cache(c1), sf::train::encode_token_cache(c4));
  ASSERT_EQ(c1.messages.size(), 4u);
  EXPECT_EQ(s1.unreadable, 1u);
  ASSERT_EQ(s1.unreadable_paths.size(), 1u);
  EXPECT_NE(s1.unreadable_paths[0].find("absent"), std::string::npos);
  // The message the pipeline tokenizes directly is the one in the cache.
  std::ifstream in(msgs[2].path, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(c1.ids32(1), p.prepare(raw).ids);
  EXPECT_EQ(c1.messages[1].index, 2u);
  EXPECT_EQ(c1.messages[1].label, 1);
  // The long message was cut to max_tokens and says so.
  EXPECT_EQ(c1.messages[3].length, 16);
  EXPECT_TRUE(c1.messages[3].flags & sf::train::kTokensTruncatedFlag);
  EXPECT_EQ(c1.select("val"), (std::vector<size_t>{2}));
  fs::remove_all(dir);
}
