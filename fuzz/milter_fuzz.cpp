// milter_fuzz.cpp: libFuzzer target for the milter protocol parser and
// session state machine (service/milter_protocol.h). Built with clang only
// (service/serve.cmake, target milter_fuzz; scripts/fuzz.sh runs it).
// Checks beyond "no crash, no sanitizer report": the kept message never
// exceeds the cap, and every reply the session writes is itself a well-formed
// frame that take_frame() reads back whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "service/milter_protocol.h"

using namespace sf::service;

namespace {
void check_frames(std::string bytes) {
  while (!bytes.empty()) {
    auto f = milter::take_frame(bytes, 1 << 20);
    if (!f) std::abort();  // a reply that is not a whole frame
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);
  milter::Limits limits;
  limits.max_message_bytes = 4096;
  limits.max_command_bytes = 65536 + 16;
  milter::Session s(limits);
  ScanResult r;
  r.verdict = Verdict::spam;
  r.probability = 0.97;
  r.model = "fuzz";
  r.actions = {"tag-subject [SPAM]", "add-header X-Test: 1"};
  milter::Policy policy;
  try {
    while (auto f = milter::take_frame(buf, limits.max_command_bytes)) {
      milter::Step st = s.on_frame(*f);
      check_frames(st.reply);
      if (s.message().size() > limits.max_message_bytes + 2) std::abort();
      if (st.scan) check_frames(s.finish(r, policy));
      if (st.close) break;
    }
  } catch (const milter::MilterError&) {
  }
  return 0;
}
