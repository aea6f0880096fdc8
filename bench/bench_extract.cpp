// bench_extract: single-thread throughput of mail extraction (model/mail.h).
//
// Usage: bench_extract [--seconds S] [--once] [PATH...]
// Without PATHs it generates a deterministic set of messages of mixed shapes (short plain,
// multipart/alternative with quoted-printable Latin-1 and HTML, base64 UTF-8 HTML, a mixed
// message with a 200 KB attachment, Shift_JIS, a long plain body, encoded-word headers, deep
// HTML, hostile tag soup) and runs extract() over the set repeatedly for S seconds (default 2).
// With PATHs (files, or directories read recursively: e.g. an unpacked corpus) it reads every
// file into memory and does the same; --once makes exactly one pass (to check a whole corpus).
// Prints messages/s and MB/s (one thread; by wall clock and by the thread's CPU time), the slowest
// message, and a histogram of the extraction flags over one pass.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/mail.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// CPU time of this thread (less disturbed than wall time on a shared machine).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Message {
  std::string name;
  std::string raw;
};

std::string words(std::mt19937& rng, size_t n) {
  static const char* kWords[] = {"offer",  "meeting", "invoice", "free",     "the",
                                 "and",    "please",  "account", "report",   "tomorrow",
                                 "click",  "price",   "you",     "project",  "update",
                                 "winner", "of",      "to",      "schedule", "attached"};
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) s += (i % 13 == 0) ? "\n" : " ";
    s += kWords[rng() % std::size(kWords)];
  }
  return s;
}

std::string b64(std::string_view in, bool wrap = true) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < in.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[v & 63] : '=';
    if (wrap && (i / 3) % 19 == 18) out += '\n';
  }
  return wrap ? out + "\n" : out;
}

std::vector<Message> generate() {
  std::mt19937 rng(7);
  std::vector<Message> set;
  const std::string head =
      "Received: from mx.example.org by mx.example.net\nFrom: \"Sender\" <s@example.com>\n"
      "To: r@example.net\nMIME-Version: 1.0\n";
  for (int i = 0; i < 40; ++i) {
    set.push_back({"plain", head + "Subject: " + words(rng, 6) +
                                "\nContent-Type: text/plain; charset=us-ascii\n\n" +
                                words(rng, 150) + "\n"});
    std::string latin = words(rng, 200);
    for (size_t k = 5; k < latin.size(); k += 37) latin[k] = '\xE9';
    std::string qp;
    for (char c : latin) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        qp += "=E9";
      } else {
        qp += c;
      }
    }
    set.push_back({"alternative",
                   head + "Subject: =?iso-8859-1?Q?" + "R=E9union_" + std::to_string(i) +
                       "?=\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\n"
                       "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
                       "quoted-printable\n\n" +
                       qp +
                       "\n--alt\nContent-Type: text/html; charset=utf-8\n\n"
                       "<html><head><style>p{color:red}</style></head><body><table><tr><td><p>" +
                       words(rng, 200) +
                       "</p><a href=\"http://track.example.com/x?id=" + std::to_string(i) +
                       "\">click here</a></td></tr></table></body></html>\n--alt--\n"});
    set.push_back({"html_b64", head + "Subject: =?utf-8?B?" +
                                   b64("Gr\xC3\xBC\xC3\x9F"
                                       "e " +
                                           std::to_string(i),
                                       false) +
                                   "?=\nContent-Type: text/html; charset=utf-8\n"
                                   "Content-Transfer-Encoding: base64\n\n" +
                                   b64("<div><p>" + words(rng, 300) + "</p><img alt=\"" +
                                       words(rng, 3) + "\"></div>")});
    std::string attachment(200 << 10, '\0');
    for (char& c : attachment) c = static_cast<char>(rng() & 0xFF);
    set.push_back({"attachment", head + "Subject: " + words(rng, 5) +
                                     "\nContent-Type: multipart/mixed; boundary=mix\n\n--mix\n"
                                     "Content-Type: text/plain\n\n" +
                                     words(rng, 80) +
                                     "\n--mix\nContent-Type: application/pdf; name=\"report.pdf\"\n"
                                     "Content-Transfer-Encoding: base64\n\n" +
                                     b64(attachment) + "--mix--\n"});
    // "今日は特別なご案内です。" in Shift_JIS, repeated.
    std::string sjis;
    for (int k = 0; k < 40; ++k) {
      sjis +=
          "\x8D\xA1\x93\xFA\x82\xCD\x93\xC1\x95\xCA\x82\xC8\x82\xB2\x88\xC4\x93\xE0\x82\xC5"
          "\x82\xB7\x81\x42\n";
    }
    set.push_back({"shift_jis", head + "Subject: =?shift_jis?B?" +
                                    b64("\x82\xB2\x88\xC4\x93\xE0", false) +
                                    "?=\nContent-Type: text/plain; charset=shift_jis\n"
                                    "Content-Transfer-Encoding: base64\n\n" +
                                    b64(sjis)});
    if (i % 4 == 0) {
      set.push_back({"long_plain", head + "Subject: long\nContent-Type: text/plain\n\n" +
                                       words(rng, 20000) + "\n"});
      std::string deep;
      for (int k = 0; k < 3000; ++k) deep += "<div><span>";
      set.push_back({"deep_html",
                     head + "Subject: deep\nContent-Type: text/html\n\n" + deep + words(rng, 50)});
      // Hostile tag soup (random opens and closes of a few tags).
      static const char* kSoupTags[] = {"ol", "rp", "div", "b", "select", "fieldset", "td"};
      std::string soup;
      while (soup.size() < (128u << 10)) {
        const std::string t = kSoupTags[rng() % std::size(kSoupTags)];
        const unsigned r = rng() % 10;
        soup += r < 6 ? "<" + t + ">" : r < 8 ? "</" + t + ">" : "w ";
      }
      set.push_back({"soup_html", head + "Subject: soup\nContent-Type: text/html\n\n" + soup});
    }
  }
  return set;
}

void read_path(const fs::path& p, std::vector<Message>& out) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(p, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) read_path(f, out);
    return;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.c_str());
    return;
  }
  out.push_back({p.string(), std::string(std::istreambuf_iterator<char>(in), {})});
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  bool once = false;
  std::vector<Message> set;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--once") {
      once = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: bench_extract [--seconds S] [--once] [PATH...]\n");
      return 0;
    } else {
      read_path(arg, set);
    }
  }
  const bool generated = set.empty();
  if (generated) set = generate();
  size_t bytes = 0;
  for (const Message& m : set) bytes += m.raw.size();
  std::printf("%s: %zu messages, %.1f MB\n", generated ? "generated set" : "files", set.size(),
              bytes / 1e6);

  // One pass: flag histogram and the slowest message.
  std::map<std::string, size_t> histogram;
  std::map<std::string, std::pair<size_t, double>> per_shape;  // generated set: count, seconds
  double slowest = 0;
  std::string slowest_name;
  size_t text_bytes = 0;
  const auto t0 = Clock::now();
  double cpu0 = thread_cpu_seconds();
  for (const Message& m : set) {
    const auto s = Clock::now();
    const sf::mail::Extracted e = sf::mail::extract(m.raw);
    const double dt = std::chrono::duration<double>(Clock::now() - s).count();
    if (generated) {
      per_shape[m.name].first += 1;
      per_shape[m.name].second += dt;
    }
    if (dt > slowest) {
      slowest = dt;
      slowest_name = m.name;
    }
    text_bytes += e.model_text().size();
    for (const std::string& f : sf::mail::flag_names(e.flags)) ++histogram[f];
    if (e.flags == 0) ++histogram["(none)"];
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = thread_cpu_seconds() - cpu0;
  size_t passes = 1;
  if (!once) {
    const auto t1 = Clock::now();
    cpu0 = thread_cpu_seconds();
    passes = 0;
    do {
      for (const Message& m : set) {
        const sf::mail::Extracted e = sf::mail::extract(m.raw);
        if (e.parts == static_cast<size_t>(-1)) std::printf("impossible\n");
      }
      ++passes;
      elapsed = std::chrono::duration<double>(Clock::now() - t1).count();
    } while (elapsed < seconds);
    cpu = thread_cpu_seconds() - cpu0;
  }
  const double msgs = static_cast<double>(set.size() * passes);
  std::printf("passes %zu, %.3f s wall: %.0f messages/s, %.1f MB/s (one thread)\n", passes, elapsed,
              msgs / elapsed, static_cast<double>(bytes * passes) / 1e6 / elapsed);
  std::printf("by thread CPU time %.3f s: %.0f messages/s, %.1f MB/s\n", cpu, msgs / cpu,
              static_cast<double>(bytes * passes) / 1e6 / cpu);
  std::printf("model text: %.1f MB per pass; slowest message %.2f ms (%s)\n", text_bytes / 1e6,
              slowest * 1e3, slowest_name.c_str());
  if (generated) {
    std::printf("per shape (one pass):\n");
    for (const auto& [name, v] : per_shape) {
      std::printf("  %-12s %4zu messages  %8.3f ms/message\n", name.c_str(), v.first,
                  v.second * 1e3 / static_cast<double>(v.first));
    }
  }
  std::printf("flags over one pass:\n");
  for (const auto& [name, count] : histogram) {
    std::printf("  %-26s %8zu  %5.1f%%\n", name.c_str(), count, 100.0 * count / set.size());
  }
  return 0;
}
