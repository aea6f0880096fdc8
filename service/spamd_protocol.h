// spamd_protocol.h: SpamAssassin's spamc/spamd protocol (SPAMC/1.5), as pure
// functions: request head parsing and response building. The socket side is
// spamd_server.h.
//
// What it does: parses "COMMAND SPAMC/1.x" and its header lines
// (Content-length, User, Compress, Message-class, Set, Remove) and builds the
// replies spamc reads: "SPAMD/1.5 0 EX_OK", "Spam: True ; 9.5 / 9.0", a
// Content-length and the body (the rewritten message for PROCESS, its header
// section for HEADERS, the rule names for SYMBOLS, a report for REPORT).
// Exit codes are sysexits.h values, named through a table (ex_name()).
// Promises: parse_spamd_head() accepts any bytes and either returns a request
// or a SpamdError with the EX_* code to answer (EX_PROTOCOL for malformed
// input, EX_DATAERR for a message over the size limit); it never throws.
// Failure: every SpamdError is the peer's fault; the server answers it and
// closes the connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "service/scan.h"

namespace sf::service {

// sysexits.h codes, as spamd uses them.
enum ExCode : int {
  kExOk = 0,
  kExUsage = 64,
  kExDataErr = 65,
  kExNoInput = 66,
  kExNoUser = 67,
  kExNoHost = 68,
  kExUnavailable = 69,
  kExSoftware = 70,
  kExOsErr = 71,
  kExOsFile = 72,
  kExCantCreat = 73,
  kExIoErr = 74,
  kExTempFail = 75,
  kExProtocol = 76,
  kExNoPerm = 77,
  kExConfig = 78,
  kExTimeout = 79,
};
std::string_view ex_name(int code);  // "EX_PROTOCOL"; "EX_UNKNOWN" for others

enum class SpamdCommand {
  check,
  symbols,
  report,
  report_ifspam,
  skip,
  ping,
  process,
  tell,
  headers
};
std::string_view spamd_command_name(SpamdCommand c);
// Whether the command carries a message (Content-length and body).
bool spamd_command_has_body(SpamdCommand c);

struct SpamdRequest {
  SpamdCommand command = SpamdCommand::check;
  int version_major = 1, version_minor = 5;
  std::optional<uint64_t> content_length;
  std::string user;
  // TELL
  std::string message_class;  // "spam", "ham" or empty
  bool set_local = false, set_remote = false;
  bool remove_local = false, remove_remote = false;
};

struct SpamdError {
  int code = kExProtocol;
  std::string detail;  // for the reply line and the log; printable ASCII
};

struct SpamdLimits {
  uint64_t max_message_bytes = 10 << 20;
  size_t max_header_lines = 64;
};

// Index just past the empty line that ends the request head, or npos when
// `buf` does not hold a complete head yet. Lines end in CRLF (bare LF is
// accepted too).
size_t spamd_head_end(std::string_view buf);
// Parses a complete head (request line, header lines, empty line).
std::variant<SpamdRequest, SpamdError> parse_spamd_head(std::string_view head,
                                                        const SpamdLimits& limits);
// True when the first line of `buf` is complete and is a PING of a protocol
// version before 1.5 (such clients send no empty line after it).
bool spamd_is_old_ping(std::string_view buf);

// "SPAMD/1.5 76 EX_PROTOCOL <detail>\r\n": the whole reply to an error; the
// connection is closed after it.
std::string spamd_error_reply(const SpamdError& e);
std::string spamd_pong_reply();
// The reply to a scanning command for its result. `message` is the message
// the client sent (PROCESS, HEADERS). A tempfail result (fail-closed policy)
// becomes an EX_TEMPFAIL error reply.
std::string spamd_scan_reply(const SpamdRequest& req, const ScanResult& r,
                             std::string_view message);
std::string spamd_tell_reply(bool did_set_local, bool did_remove_local);
// The human-readable report of REPORT / REPORT_IFSPAM.
std::string spamd_report_text(const ScanResult& r);

}  // namespace sf::service
