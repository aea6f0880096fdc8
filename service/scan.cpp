// scan.cpp: see scan.h.
#include "service/scan.h"

#include <cmath>
#include <cstdio>

#include "spamformer_version.h"

namespace sf::service {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One physical line of the header section: [begin, end) including its line break.
struct Line {
  size_t begin, end;
};

// Calls f(line) for each line of the header section (not the empty line).
template <typename F>
void for_each_header_line(std::string_view m, size_t section_end, F f) {
  size_t pos = 0;
  while (pos < section_end) {
    size_t nl = m.find('\n', pos);
    size_t end = nl == std::string_view::npos ? m.size() : nl + 1;
    if (end > section_end) end = section_end;
    std::string_view text = m.substr(pos, end - pos);
    if (text == "\n" || text == "\r\n") break;
    f(Line{pos, end});
    pos = end;
  }
}

// Where our headers go: the start of the empty line ending the header
// section, or the end of a message without one.
size_t insertion_point(std::string_view m) {
  const size_t end = header_section_end(m);
  std::string_view head = m.substr(0, end);
  if (head.size() >= 2 && head.substr(head.size() - 2) == "\r\n" &&
      (head.size() == 2 || head[head.size() - 3] == '\n'))
    return end - 2;
  if (!head.empty() && head.back() == '\n' && (head.size() == 1 || head[head.size() - 2] == '\n'))
    return end - 1;
  return end;
}

std::string one_line(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::ham:
      return "ham";
    case Verdict::suspect:
      return "suspect";
    case Verdict::spam:
      return "spam";
    case Verdict::unchecked:
      return "unchecked";
  }
  return "?";
}

std::string_view unchecked_name(Unchecked u) {
  switch (u) {
    case Unchecked::none:
      return "none";
    case Unchecked::deadline:
      return "deadline";
    case Unchecked::queue_full:
      return "queue_full";
    case Unchecked::backend_error:
      return "backend_error";
    case Unchecked::not_ready:
      return "not_ready";
    case Unchecked::prepare_error:
      return "prepare_error";
    case Unchecked::shutdown:
      return "shutdown";
  }
  return "?";
}

double sa_score(double p) {
  if (!(p >= 0)) p = 0;
  if (p > 1) p = 1;
  return std::round(p * 100.0) / 10.0;
}

double sa_required(double spam_threshold) { return std::round(spam_threshold * 100.0) / 10.0; }

std::string sa_symbol(const ScanResult& r) {
  if (r.verdict == Verdict::unchecked) return "SPAMFORMER_UNCHECKED";
  double p = r.probability < 0 ? 0 : r.probability;
  int bucket = static_cast<int>(std::floor(p * 20.0)) * 5;
  if (bucket > 95) bucket = 95;
  char buf[32];
  std::snprintf(buf, sizeof buf, "SPAMFORMER_P%02d", bucket);
  return buf;
}

std::vector<Header> verdict_headers(const ScanResult& r) {
  std::vector<Header> h;
  std::string model = r.model.empty() ? "none" : r.model;
  if (r.verdict == Verdict::unchecked) {
    h.push_back({"X-Spam-Status", "unchecked"});
    h.push_back({"X-Spamformer",
                 "unchecked reason=" + std::string(unchecked_name(r.reason)) + " model=" + model});
    return h;
  }
  const bool spam = r.verdict == Verdict::spam;
  const double score = sa_score(r.probability);
  const std::string score_text = fixed(score, 1);
  if (spam) h.push_back({"X-Spam-Flag", "YES"});
  h.push_back({"X-Spam-Score", score_text});
  h.push_back({"X-Spam-Level", std::string(static_cast<size_t>(std::floor(score + 1e-9)), '*')});
  h.push_back({"X-Spam-Status", std::string(spam ? "Yes" : "No") + ", score=" + score_text +
                                    " required=" + fixed(sa_required(r.spam_threshold), 1) +
                                    " tests=" + sa_symbol(r) +
                                    " autolearn=no version=spamformer-" SPAMFORMER_VERSION});
  h.push_back({"X-Spamformer", "p=" + fixed(r.probability, 3) + " rule=" +
                                   (r.rule.empty() ? "none" : r.rule) + " model=" + model});
  return h;
}

const std::vector<std::string>& our_header_names() {
  static const std::vector<std::string> names = {"X-Spam-Flag", "X-Spam-Score", "X-Spam-Level",
                                                 "X-Spam-Status", "X-Spamformer"};
  return names;
}

size_t header_section_end(std::string_view m) {
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    if (nl == std::string_view::npos) return m.size();
    std::string_view line = m.substr(pos, nl + 1 - pos);
    if (line == "\n" || line == "\r\n") return nl + 1;
    pos = nl + 1;
  }
  return m.size();
}

std::string_view line_ending(std::string_view m) {
  size_t nl = m.find('\n');
  if (nl != std::string_view::npos && nl > 0 && m[nl - 1] == '\r') return "\r\n";
  return "\n";
}

std::string strip_our_headers(std::string_view m) {
  const size_t section_end = header_section_end(m);
  std::string out;
  out.reserve(m.size());
  bool dropping = false;
  size_t copied_to = 0;
  for_each_header_line(m, section_end, [&](Line l) {
    std::string_view text = m.substr(l.begin, l.end - l.begin);
    const bool continuation = text[0] == ' ' || text[0] == '\t';
    if (!continuation) {
      dropping = false;
      size_t colon = text.find(':');
      if (colon != std::string_view::npos) {
        std::string_view name = text.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        for (const auto& ours : our_header_names())
          if (iequals(name, ours)) dropping = true;
      }
    }
    if (dropping) {
      out.append(m.substr(copied_to, l.begin - copied_to));
      copied_to = l.end;
    }
  });
  out.append(m.substr(copied_to));
  return out;
}

std::string rewrite_message(std::string_view message, const std::vector<Header>& headers) {
  std::string m = strip_our_headers(message);
  const std::string_view eol = line_ending(message);  // the style of the message as sent
  std::string block;
  for (const auto& h : headers)
    block += one_line(h.name) + ": " + one_line(h.value) + std::string(eol);
  // Insert before the empty line that ends the header section (or at the end
  // of a message that has none, after giving its last line a line break).
  size_t at = insertion_point(m);
  if (at == m.size() && !m.empty() && m.back() != '\n') {
    m += eol;
    at = insertion_point(m);
  }
  m.insert(at, block);
  return m;
}

std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (unsigned char c : text.substr(0, max)) out += (c < 0x20 || c >= 0x7f) ? '?' : char(c);
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace sf::service
