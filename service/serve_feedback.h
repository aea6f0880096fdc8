// serve_feedback.h: feedback (spamc TELL, POST /v1/feedback) stored in the
// rules database's feedback table (rules/store.h), for training.
//
// What it does: keeps who said what about which message: the time, the
// interface, the label (spam/ham), the user, and the message as the SHA-256
// of its Message-ID (rules::message_id_hash). A message without a Message-ID
// is keyed by "<sha256-of-the-whole-message@spamformer>" instead. No message
// content is stored: the trainer finds the message by its Message-ID.
// Promises: record() returns only after the row is committed (so spamc's
// DidSet is true); thread-safe.
// Failure: the constructor throws rules::StoreError when the database cannot
// be opened or created (the operator's to fix: path, permissions); record()
// throws the store's errors.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "service/serve_adapter.h"

namespace sf::rules {
class Store;
}

namespace sf::service {

// The Message-ID of a raw message (unfolded, trimmed), or the fallback key
// described above.
std::string feedback_message_id(std::string_view message);

class StoreFeedback final : public FeedbackSink {
 public:
  // Creates the parent directory and the database if needed.
  explicit StoreFeedback(const std::string& path);
  explicit StoreFeedback(std::shared_ptr<rules::Store> store);
  ~StoreFeedback() override;
  void record(const FeedbackItem& item) override;
  rules::Store& store() { return *store_; }

 private:
  std::shared_ptr<rules::Store> store_;
};

}  // namespace sf::service
