// bench_tokenizer: single-thread throughput of the WordPiece tokenizer (model/tokenizer.h).
//
// Usage: bench_tokenizer [FILE] [--vocab VOCAB_TXT] [--mb N]
// Without FILE it generates N MB (default 8) of deterministic mixed text: mostly Latin
// mail-like prose with some URLs and addresses, accented words, CJK, emoji, numbers and
// HTML-ish fragments. Prints MiB/s and tokens/s on one thread (best of 7 runs, by the
// thread's CPU time, with wall-clock MiB/s beside it) for: the whole text in one call, the
// text cut into 4 KiB "messages" (one call each), and encode() with the default truncation
// (256 tokens, tail 64) per message.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer.h"

namespace {

std::string generate(size_t bytes) {
  static const char* kWords[] = {"the",
                                 "of",
                                 "and",
                                 "to",
                                 "in",
                                 "is",
                                 "you",
                                 "that",
                                 "it",
                                 "for",
                                 "on",
                                 "are",
                                 "with",
                                 "as",
                                 "your",
                                 "this",
                                 "have",
                                 "from",
                                 "or",
                                 "by",
                                 "account",
                                 "please",
                                 "click",
                                 "here",
                                 "free",
                                 "offer",
                                 "limited",
                                 "time",
                                 "meeting",
                                 "tomorrow",
                                 "attached",
                                 "invoice",
                                 "payment",
                                 "received",
                                 "regards",
                                 "thanks",
                                 "project",
                                 "schedule",
                                 "review",
                                 "update",
                                 "security",
                                 "verify",
                                 "password",
                                 "winner",
                                 "congratulations",
                                 "unsubscribe",
                                 "newsletter",
                                 "discount",
                                 "shipping",
                                 "delivery",
                                 "tracking",
                                 "information",
                                 "customer",
                                 "service",
                                 "important",
                                 "message",
                                 "Hello",
                                 "Dear",
                                 "Best",
                                 "Subject",
                                 "Monday",
                                 "Friday",
                                 "internationalization",
                                 "unbelievable",
                                 "misunderstanding",
                                 "cryptocurrency"};
  static const char* kAccented[] = {"café",   "naïve",    "résumé", "Größe", "señor", "coração",
                                    "Kraków", "İstanbul", "Tiếng",  "Việt",  "déjà",  "Straße"};
  static const char* kCjk[] = {"我们今天去公园散步吧。", "日本語のテキストです。",
                               "한국어 텍스트입니다.", "优惠券免费领取点击这里",
                               "お知らせ：アカウントが停止されました"};
  static const char* kEmoji[] = {"😀",  "🔥",      "🎉", "👍🏽", "👨‍👩‍👧",
                                 "🇺🇸", "❤️", "💰"};
  static const char* kPunct[] = {".", ",", "!", "?", ":", ";", " -", "...", "!!!"};
  std::mt19937 rng(12345);
  auto pick = [&](auto& arr) { return arr[rng() % std::size(arr)]; };
  std::string s;
  s.reserve(bytes + 256);
  size_t words_in_line = 0;
  while (s.size() < bytes) {
    const unsigned r = rng() % 1000;
    if (r < 800) {
      std::string w = pick(kWords);
      if (rng() % 10 == 0) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      if (rng() % 50 == 0) std::transform(w.begin(), w.end(), w.begin(), ::toupper);
      s += w;
    } else if (r < 850) {
      s += pick(kAccented);
    } else if (r < 880) {
      s += "https://www.example" + std::to_string(rng() % 100) + ".com/path/" +
           std::to_string(rng() % 100000) + "?id=" + std::to_string(rng() % 1000);
    } else if (r < 895) {
      s += "user" + std::to_string(rng() % 1000) + "@mail.example.org";
    } else if (r < 930) {
      s += pick(kCjk);
    } else if (r < 950) {
      s += pick(kEmoji);
    } else if (r < 980) {
      s += "$" + std::to_string(rng() % 10000) + "." + std::to_string(rng() % 100);
    } else {
      s += "<b>" + std::string(pick(kWords)) + "</b>";
    }
    if (rng() % 8 == 0) s += pick(kPunct);
    if (++words_in_line > 12 + rng() % 8) {
      s += "\n";
      words_in_line = 0;
    } else {
      s += " ";
    }
  }
  return s;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best of `runs` by this thread's CPU time: on a shared machine the wall clock also counts
// the time other processes held the core. Wall time of the same run is kept for reference.
struct Timing {
  double cpu = 1e30;
  double wall = 1e30;
};

template <typename F>
Timing best_of(F&& f, int runs = 7) {
  Timing best;
  for (int i = 0; i < runs; ++i) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    f();
    const double c1 = thread_cpu_seconds();
    const auto w1 = std::chrono::steady_clock::now();
    best.cpu = std::min(best.cpu, c1 - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(w1 - w0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab = SF_TOKENIZER_VOCAB;
  std::string file;
  double mb = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--vocab" && i + 1 < argc) {
      vocab = argv[++i];
    } else if (a == "--mb" && i + 1 < argc) {
      mb = std::atof(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [FILE] [--vocab VOCAB_TXT] [--mb N]\n", argv[0]);
      return 0;
    } else {
      file = a;
    }
  }
  std::string text;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot open %s\n", file.c_str());
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = std::move(ss).str();
  } else {
    text = generate(static_cast<size_t>(mb * 1024 * 1024));
  }
  const auto wp = sf::tok::WordPiece::from_vocab_file(vocab);
  const double mbytes = static_cast<double>(text.size()) / (1024.0 * 1024.0);
  std::printf("input: %s, %.2f MiB; vocab: %s (%zu tokens)\n",
              file.empty() ? "generated mixed text" : file.c_str(), mbytes, vocab.c_str(),
              wp.vocab_size());

  size_t tokens = 0;
  const Timing t_whole = best_of([&] { tokens = wp.tokenize(text).size(); });
  std::printf("speeds by thread CPU time, best of 7 (wall-clock MiB/s in brackets)\n");
  std::printf(
      "tokenize, whole text:      %7.1f MiB/s  %6.2f M tokens/s  [%6.1f]  (%zu tokens, %.2f "
      "bytes/token)\n",
      mbytes / t_whole.cpu, static_cast<double>(tokens) / t_whole.cpu / 1e6, mbytes / t_whole.wall,
      tokens, static_cast<double>(text.size()) / static_cast<double>(std::max<size_t>(tokens, 1)));

  // 4 KiB messages, cut at a line break where there is one.
  std::vector<std::string_view> msgs;
  const std::string_view all(text);
  for (size_t pos = 0; pos < all.size();) {
    size_t end = std::min(all.size(), pos + 4096);
    const size_t nl = all.rfind('\n', end);
    if (end < all.size() && nl != std::string_view::npos && nl > pos) end = nl + 1;
    msgs.push_back(all.substr(pos, end - pos));
    pos = end;
  }
  size_t msg_tokens = 0;
  std::vector<int32_t> ids;
  const Timing t_msgs = best_of([&] {
    msg_tokens = 0;
    for (const auto m : msgs) {
      ids.clear();
      wp.tokenize_into(m, ids);
      msg_tokens += ids.size();
    }
  });
  std::printf("tokenize, 4 KiB messages:  %7.1f MiB/s  %6.2f M tokens/s  [%6.1f]  (%zu messages)\n",
              mbytes / t_msgs.cpu, static_cast<double>(msg_tokens) / t_msgs.cpu / 1e6,
              mbytes / t_msgs.wall, msgs.size());

  size_t enc_tokens = 0;
  const Timing t_enc = best_of([&] {
    enc_tokens = 0;
    for (const auto m : msgs) enc_tokens += wp.encode(m).size();
  });
  std::printf("encode(256/64), messages:  %7.1f MiB/s  %6.0f messages/s  [%6.1f]\n",
              mbytes / t_enc.cpu, static_cast<double>(msgs.size()) / t_enc.cpu,
              mbytes / t_enc.wall);
  return tokens > 0 ? 0 : 1;
}
