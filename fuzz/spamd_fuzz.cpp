// spamd_fuzz.cpp: libFuzzer target for the spamd request parser and the
// header rewriting that PROCESS applies to untrusted messages
// (service/spamd_protocol.h, service/scan.h). Built and run for a bounded
// time by tests/fuzz_test.sh where clang is installed.
// Checks beyond "no crash, no sanitizer report": refusals carry a known EX_*
// code and a printable reply; stripping our headers after adding them gives
// the message back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "service/scan.h"
#include "service/spamd_protocol.h"

using namespace sf::service;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t end = spamd_head_end(in);
  (void)spamd_is_old_ping(in);
  SpamdLimits limits;
  limits.max_message_bytes = 1 << 20;
  auto parsed = parse_spamd_head(end == std::string_view::npos ? in : in.substr(0, end), limits);
  ScanResult r;
  r.verdict = Verdict::spam;
  r.probability = 0.97;
  r.model = "fuzz";
  if (auto* e = std::get_if<SpamdError>(&parsed)) {
    if (ex_name(e->code) == "EX_UNKNOWN") std::abort();
    std::string reply = spamd_error_reply(*e);
    for (size_t i = 0; i + 2 < reply.size(); ++i)
      if (reply[i] < 0x20 || reply[i] >= 0x7f) std::abort();
  } else {
    const auto& req = std::get<SpamdRequest>(parsed);
    std::string_view body = end == std::string_view::npos ? std::string_view() : in.substr(end);
    if (spamd_command_has_body(req.command) && req.command != SpamdCommand::tell)
      (void)spamd_scan_reply(req, r, body);
  }
  std::string rewritten = rewrite_message(in, verdict_headers(r));
  std::string back = strip_our_headers(rewritten), orig = strip_our_headers(in);
  if (back != orig && back != orig + std::string(line_ending(in))) std::abort();
  return 0;
}
