// libFuzzer harness for mail extraction (model/mail.h): any bytes in, no crash, no sanitizer
// report, valid UTF-8 out, no internal error. Built only with clang (target mail_fuzz, not in
// `all`): cmake -DCMAKE_CXX_COMPILER=clang++ ... && cmake --build . --target mail_fuzz
// Run: ./mail_fuzz -max_len=65536 -timeout=5 CORPUS_DIR
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/charset.h"
#include "model/mail.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  sf::mail::Limits limits;
  limits.max_body_text_bytes = 4096;
  limits.max_parts = 20;
  limits.max_depth = 4;
  const sf::mail::Extracted e = sf::mail::extract(raw, limits);
  if (!sf::mail::utf8_valid(e.model_text())) std::abort();
  if ((e.flags & sf::mail::kInternalError) != 0) std::abort();
  if (e.body_text.size() > limits.max_body_text_bytes || e.parts > limits.max_parts) std::abort();
  return 0;
}
