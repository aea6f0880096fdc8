// serve_feedback.cpp: see serve_feedback.h.
#include "service/serve_feedback.h"

#include <filesystem>
#include <stdexcept>

#include "rules/sha256.h"
#include "rules/store.h"
#include "rules/verdict.h"
#include "service/scan.h"

namespace sf::service {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

}  // namespace

std::string feedback_message_id(std::string_view m) {
  const size_t end = header_section_end(m);
  size_t pos = 0;
  while (pos < end) {
    size_t nl = m.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? m.size() : nl + 1;
    std::string_view line = m.substr(pos, line_end - pos);
    if (starts_with_nocase(line, "message-id:")) {
      std::string value(line.substr(11));
      // Unfold continuation lines.
      size_t next = line_end;
      while (next < end && (m[next] == ' ' || m[next] == '\t')) {
        size_t nl2 = m.find('\n', next);
        size_t e2 = nl2 == std::string_view::npos ? m.size() : nl2 + 1;
        value += m.substr(next, e2 - next);
        next = e2;
      }
      std::string out;
      for (char c : value)
        if (c != '\r' && c != '\n' && c != ' ' && c != '\t') out += c;
      if (!out.empty()) return out;
    }
    pos = line_end;
  }
  return "<" + rules::sha256_hex(m) + "@spamformer>";
}

StoreFeedback::StoreFeedback(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  store_ = std::make_shared<rules::Store>(path);
}

StoreFeedback::StoreFeedback(std::shared_ptr<rules::Store> store) : store_(std::move(store)) {}

StoreFeedback::~StoreFeedback() = default;

void StoreFeedback::record(const FeedbackItem& item) {
  rules::Feedback f;
  f.time_ms = rules::now_ms();
  f.source = item.interface == "http" ? rules::FeedbackSource::http : rules::FeedbackSource::spamc;
  auto label = rules::parse_label(item.label);
  if (!label) throw std::invalid_argument("feedback label must be spam or ham");
  f.label = *label;
  f.user = item.user;
  f.message_hash = rules::message_id_hash(
      item.message_id.empty() ? feedback_message_id(item.message) : item.message_id);
  store_->add_feedback(f);
}

}  // namespace sf::service
