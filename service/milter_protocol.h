// milter_protocol.h: the Sendmail/Postfix milter wire protocol, version 6, as
// a pure parser, session state machine and reply encoder (no sockets here;
// service/milter_server.h drives it over a connection).
//
// What it does: splits the byte stream into frames (4-byte big-endian length,
// then the command byte and its data), decodes SMFIC_OPTNEG, MACRO, CONNECT,
// HELO, MAIL, RCPT, HEADER, EOH, BODY, BODYEOB, DATA, UNKNOWN, ABORT, QUIT and
// QUIT_NC, keeps the envelope and the message (headers reconstructed from
// HEADER events, then the body, accumulated up to a cap), answers every step
// that needs an answer, and turns a ScanResult into the end-of-message
// replies (ADDHEADER, CHGHEADER, QUARANTINE, REPLYCODE, DISCARD, ACCEPT).
// Promises: every length is bounded (a frame by max_command_bytes, the kept
// message by max_message_bytes: the rest of a bigger body is not kept and the
// message is scored on what was kept); no input bytes crash or hang it.
// Failure: a malformed frame or command is a MilterError (the peer's fault):
// the server logs it and closes the connection, and the MTA applies its
// milter_default_action.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/scan.h"

namespace sf::service::milter {

constexpr uint32_t kVersion = 6;

// Commands (MTA -> filter).
enum class Cmd : char {
  abort = 'A',
  body = 'B',
  connect = 'C',
  macro = 'D',
  bodyeob = 'E',
  helo = 'H',
  quit_nc = 'K',
  header = 'L',
  mail = 'M',
  eoh = 'N',
  optneg = 'O',
  quit = 'Q',
  rcpt = 'R',
  data = 'T',
  unknown = 'U',
};
// Replies (filter -> MTA).
enum class Reply : char {
  accept = 'a',
  cont = 'c',
  discard = 'd',
  addheader = 'h',
  chgheader = 'm',
  progress = 'p',
  quarantine = 'q',
  reject = 'r',
  tempfail = 't',
  replycode = 'y',
  optneg = 'O',
};

// Actions (SMFIF_*) and protocol steps (SMFIP_*) of option negotiation.
constexpr uint32_t kActAddHeaders = 0x01;
constexpr uint32_t kActChangeHeaders = 0x10;
constexpr uint32_t kActQuarantine = 0x20;
constexpr uint32_t kStepNoUnknown = 0x100;
constexpr uint32_t kStepNoData = 0x200;
// The actions this filter asks for; the protocol steps it would rather not see.
constexpr uint32_t kWantedActions = kActAddHeaders | kActChangeHeaders | kActQuarantine;
constexpr uint32_t kUnwantedSteps = kStepNoUnknown | kStepNoData;

// "SMFIC_BODY" for 'B'; "SMFIR_ACCEPT" for 'a'; "unknown 0x7a" otherwise.
std::string command_name(char cmd);
std::string reply_name(char reply);

struct MilterError {
  std::string detail;
};

struct Frame {
  char cmd = 0;
  std::string data;
};

// Takes one frame off the front of `buf`. Returns the frame, or nothing when
// more bytes are needed. Throws MilterError for a zero length or one over
// max_command_bytes.
std::optional<Frame> take_frame(std::string& buf, size_t max_command_bytes);

// Encoders: the whole frame, length included.
std::string encode(char cmd, std::string_view data);
std::string encode_reply(Reply r, std::string_view data = {});
std::string optneg_reply(uint32_t version, uint32_t actions, uint32_t steps);
std::string addheader_reply(std::string_view name, std::string_view value);
// index: the n-th (1-based) field of that name; an empty value deletes it.
std::string chgheader_reply(uint32_t index, std::string_view name, std::string_view value);
std::string quarantine_reply(std::string_view reason);
// "550 5.7.1 text" (text made printable, one line, bounded).
std::string replycode_reply(std::string_view code, std::string_view text);

struct Limits {
  size_t max_message_bytes = 10u << 20;
  size_t max_command_bytes = 1u << 20;
};

struct Policy {  // from [milter]
  std::string reject_text = "Message rejected as spam";
  std::string tempfail_text = "Try again later";
  double reject_threshold = 0;  // > 0: reject when p >= this
};

// What the session wants next after a frame.
struct Step {
  std::string reply;   // bytes to send now (may be empty)
  bool scan = false;   // end of message: score message() and call finish()
  bool close = false;  // SMFIC_QUIT: close after sending `reply`
};

// One milter connection's protocol state (one or more messages).
class Session {
 public:
  explicit Session(Limits limits) : limits_(limits) {}
  // Throws MilterError for malformed commands.
  Step on_frame(const Frame& f);
  // The message as received so far: "Name: value\r\n" per header, "\r\n", body.
  std::string message() const;
  const Envelope& envelope() const { return env_; }
  bool truncated() const { return truncated_; }
  const std::map<std::string, std::string>& macros() const { return macros_; }
  uint32_t actions() const { return actions_; }
  uint32_t steps() const { return steps_; }
  // The end-of-message replies for a scan result (ends with ACCEPT, DISCARD
  // or REPLYCODE), and the start of the next message. `disposition` gets
  // "accept", "reject", "tempfail", "discard" or "quarantine".
  std::string finish(const ScanResult& r, const Policy& p, std::string* disposition = nullptr);

 private:
  void reset_message();
  Limits limits_;
  uint32_t actions_ = 0;
  uint32_t steps_ = 0;
  bool negotiated_ = false;
  Envelope env_;
  std::map<std::string, std::string> macros_;
  std::vector<Header> headers_;
  std::string body_;
  size_t kept_ = 0;
  bool truncated_ = false;
};

}  // namespace sf::service::milter
