// sha256.h: SHA-256 (FIPS 180-4), a small own implementation so that the
// rules module needs no crypto library. Used to pseudonymise Message-IDs and
// recipient addresses in the verdict and feedback logs.
// Promises: digests equal the FIPS 180-4 test vectors (tests/test_rules_util.cpp).
// Failure: none (pure functions).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sf::rules {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::array<uint8_t, 32> finish();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Lower-case hex digest of data.
std::string sha256_hex(std::string_view data);

// The key under which a message is logged: SHA-256 hex of its Message-ID with
// surrounding white space and one pair of angle brackets removed, so that
// "<a@b>" and "a@b" give the same hash. Empty input gives an empty string.
std::string message_id_hash(std::string_view message_id);

}  // namespace sf::rules
