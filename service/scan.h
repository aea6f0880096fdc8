// scan.h: what every protocol adapter hands the daemon (ScanRequest) and gets
// back (ScanResult), and the verdict headers in SpamAssassin's format.
//
// What it does: defines the one path all interfaces share (adapter ->
// ScanRequest -> engine -> ScanResult -> adapter), the score scale of the
// SpamAssassin-style headers, and the header edits every interface makes:
// incoming copies of the headers this service adds are removed first, then
// ours are added at the end of the header section.
// Score scale: score = 10 * p, required = 10 * spam_threshold (so the
// default 0.90 gives required=9.0); X-Spam-Level has floor(score) stars.
// Promises: the header functions are pure, never throw on any input bytes,
// keep the message's line ending style (CRLF or LF) and its body untouched.
// Failure: none here; an unchecked result carries its reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf::service {

// Where the message came from, as far as the interface knows it.
struct Envelope {
  std::string client_ip;
  std::string helo;
  std::string sender;                   // envelope sender (MAIL FROM)
  std::vector<std::string> recipients;  // envelope recipients (RCPT TO)
  std::string user;                     // account the scan is for (spamc -u, IMAP login)
  std::string tenant;
  bool authenticated = false;
  std::string auth_user;
};

struct ScanRequest {
  std::string interface;  // "spamd", "http", "milter", ...: metrics and logs
  std::string message;    // the raw RFC 822 message
  Envelope envelope;
  std::string id;  // request id for the logs (set by the engine if empty)
};

enum class Verdict { ham, suspect, spam, unchecked };
std::string_view verdict_name(Verdict v);

// Why a message was not scored.
enum class Unchecked {
  none,
  deadline,
  queue_full,
  backend_error,
  not_ready,
  prepare_error,
  shutdown
};
std::string_view unchecked_name(Unchecked u);

struct Timings {
  double prepare_ms = 0;  // extraction + tokenization
  double queue_ms = 0;    // waiting for a batch and the backend
  double model_ms = 0;    // the backend call of the message's batch
  double total_ms = 0;    // arrival to verdict
};

struct ScanResult {
  std::string id;
  Verdict verdict = Verdict::unchecked;
  Unchecked reason = Unchecked::none;  // set when verdict == unchecked
  double probability = -1;             // [0, 1]; -1 when unchecked
  double spam_threshold = 0.9;         // the threshold in force (required = 10x)
  std::string rule;                    // the rule that decided ("default-spam", ...)
  std::vector<std::string> actions;    // "move Junk", "flag $Suspect", "accept", "tempfail"
  bool tempfail = false;               // refuse for now (fail-closed policy)
  std::string model;                   // model name
  std::vector<std::string> flags;      // what extraction found wrong with the message
  int tokens = 0;
  int batch_size = 0;  // sequences in the backend call that scored it
  Timings timings;
};

struct Header {
  std::string name;
  std::string value;
};

// The SpamAssassin scale (see the file comment). Scores have one decimal.
double sa_score(double p);
double sa_required(double spam_threshold);
// "SPAMFORMER_P95": p in 5 % buckets (floor), or "SPAMFORMER_UNCHECKED".
std::string sa_symbol(const ScanResult& r);
// The headers added to a scanned message, in order:
//   X-Spam-Flag: YES                      (spam only)
//   X-Spam-Score: 9.5
//   X-Spam-Level: *********
//   X-Spam-Status: Yes, score=9.5 required=9.0 tests=SPAMFORMER_P95 autolearn=no
//                  version=spamformer-0.1.0
//   X-Spamformer: p=0.953 rule=default-spam model=NAME
// and for an unchecked message only
//   X-Spam-Status: unchecked
//   X-Spamformer: unchecked reason=deadline model=NAME
std::vector<Header> verdict_headers(const ScanResult& r);
// The names of the headers this service adds (what strip_our_headers removes).
const std::vector<std::string>& our_header_names();

// Splits at the end of the header section: the index just past the empty
// line, or message.size() when there is none (a message of headers only).
size_t header_section_end(std::string_view message);
// "\r\n" when the message's first line ends in CRLF, else "\n".
std::string_view line_ending(std::string_view message);
// The message without any field named in our_header_names() (with their
// continuation lines) in its header section.
std::string strip_our_headers(std::string_view message);
// strip_our_headers, then `headers` added at the end of the header section.
// Header values are made single-line (CR and LF become spaces).
std::string rewrite_message(std::string_view message, const std::vector<Header>& headers);

// Printable ASCII, bounded copy of untrusted text for logs and protocol replies
// (control and non-ASCII bytes -> '?').
std::string printable(std::string_view text, size_t max = 200);

}  // namespace sf::service
