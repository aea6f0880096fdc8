// rng.h: the trainer's random numbers, defined here (splitmix64) rather than
// by the standard library, so that a seed gives the same run on every
// platform and library version.
// Promises: pure functions of the state; no global state.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace sf::train {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  // Standard normal (Box-Muller).
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  uint64_t state() const { return s_; }

 private:
  uint64_t s_;
};

// A permutation of 0..n-1 that depends only on (seed, stream).
inline std::vector<size_t> permutation(size_t n, uint64_t seed, uint64_t stream) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  Rng r(seed ^ (0xa0761d6478bd642full * (stream + 1)));
  for (size_t i = n; i > 1; --i) {
    size_t j = static_cast<size_t>(r.below(i));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

}  // namespace sf::train
