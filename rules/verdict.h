// verdict.h: the records of the verdict log and the feedback table.
// A verdict keeps no message content: the Message-ID and the recipient
// address only as SHA-256 hashes, the sender and recipient only as domains.
// Promises: make_verdict is a pure function of its arguments.
// Failure: none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/evaluate.h"
#include "rules/rule.h"

namespace sf::rules {

struct Verdict {
  int64_t time_ms = 0;        // Unix time in milliseconds
  std::string message_hash;   // message_id_hash(Message-ID)
  std::string sender_domain;  // empty for the null sender
  std::string recipient_domain;
  std::string recipient_hash;  // sha256_hex(lower-cased recipient address)
  std::string tenant;
  uint64_t size = 0;
  std::optional<float> probability;
  std::string model_version;
  std::string rule_id;
  std::vector<Action> actions;
  bool operator==(const Verdict&) const = default;
};

Verdict make_verdict(const Context& ctx, const Decision& d, std::string_view message_id,
                     std::string_view model_version, int64_t time_ms);

enum class FeedbackSource { spamc, http, imap };
enum class Label { spam, ham };
std::string_view source_name(FeedbackSource s);
std::optional<FeedbackSource> parse_source(std::string_view s);
std::string_view label_name(Label l);
std::optional<Label> parse_label(std::string_view s);

struct Feedback {
  int64_t time_ms = 0;
  FeedbackSource source = FeedbackSource::spamc;
  std::string message_hash;  // message_id_hash(Message-ID)
  Label label = Label::spam;
  std::string user;  // who gave it: account, mailbox owner or API user
  bool operator==(const Feedback&) const = default;
};

int64_t now_ms();

}  // namespace sf::rules
