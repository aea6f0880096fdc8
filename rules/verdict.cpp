// verdict.cpp: see verdict.h.
#include "rules/verdict.h"

#include <chrono>

#include "rules/address.h"
#include "rules/sha256.h"

namespace sf::rules {

Verdict make_verdict(const Context& ctx, const Decision& d, std::string_view message_id,
                     std::string_view model_version, int64_t time_ms) {
  Verdict v;
  v.time_ms = time_ms;
  v.message_hash = message_id_hash(message_id);
  Address s = normalize_address(ctx.sender);
  Address r = normalize_address(ctx.recipient);
  v.sender_domain = s.domain;
  v.recipient_domain = r.domain;
  v.recipient_hash = r.address.empty() ? "" : sha256_hex(r.address);
  v.tenant = ctx.tenant;
  v.size = ctx.size;
  v.probability = ctx.probability;
  v.model_version = model_version;
  v.rule_id = d.rule_id;
  v.actions = d.actions;
  return v;
}

std::string_view source_name(FeedbackSource s) {
  switch (s) {
    case FeedbackSource::spamc:
      return "spamc";
    case FeedbackSource::http:
      return "http";
    case FeedbackSource::imap:
      return "imap";
  }
  return "?";
}

std::optional<FeedbackSource> parse_source(std::string_view s) {
  if (s == "spamc") return FeedbackSource::spamc;
  if (s == "http") return FeedbackSource::http;
  if (s == "imap") return FeedbackSource::imap;
  return std::nullopt;
}

std::string_view label_name(Label l) { return l == Label::spam ? "spam" : "ham"; }

std::optional<Label> parse_label(std::string_view s) {
  if (s == "spam") return Label::spam;
  if (s == "ham") return Label::ham;
  return std::nullopt;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sf::rules
