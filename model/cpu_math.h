// cpu_math.h: exp and erf for the CPU encoder's inner loops, written so the compiler can
// vectorise them (no calls, no branches: both sides of every case are computed and one
// is selected).
//
// Promises (checked against double-precision libm by tests/test_encoder.cpp):
// exp_nonpositive within 3 ulp for x in [-87, 0], exactly 1 at 0, and in [0, 2e-38)
// below -87.3; erf_f32 within 2e-7 absolute everywhere (about one ulp near 1, like
// glibc's erff), so GELU stays "exact" (erf, not the tanh approximation).
// Failure: none (NaN in gives NaN out for erf_f32; exp_nonpositive is only called on
// finite differences).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

// SF_MULTIVERSION: compile a function for AVX-512, AVX2+FMA and baseline x86-64 and
// pick one when the program loads (GCC on x86-64; a plain function elsewhere).
// SF_INLINE: inline into such a function, whatever the heuristics say.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SF_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define SF_INLINE __attribute__((always_inline)) inline
#else
#define SF_MULTIVERSION
#define SF_INLINE inline
#endif

namespace sf::model {

// e^x for x <= 0 (softmax after subtracting the maximum). Range reduction
// x = n ln2 + r with |r| <= ln2 / 2, a degree-6 minimax polynomial for e^r, then 2^n
// written into the exponent bits.
SF_INLINE float exp_nonpositive(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 = hi + lo, hi with few mantissa bits
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  x = std::max(x, -87.3f);
  const float t = x * kLog2e + kRound;
  const float n = t - kRound;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRound);
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;
  return er * std::bit_cast<float>((ni + 127) << 23);
}

// erf(x). |x| < 1: x P(x^2), P of degree 6. |x| >= 1: 1 - e^(-x^2) R(|x|), where
// R(z) = erfc(z) e^(z^2) is smooth on [1, 3.92] (degree-11 polynomial in z - 2) and
// erf rounds to 1 beyond 3.92. Least-squares fits on Chebyshev nodes, made by the
// fitting snippet in scripts/gen_encoder_golden.py (--fit-erf).
SF_INLINE float erf_f32(float x) {
  const float z = std::fabs(x);
  const float u = z * z;
  float p = 7.882497198090374e-05f;
  p = p * u + -0.0008018855019389146f;
  p = p * u + 0.00518931194569119f;
  p = p * u + -0.026854328797612854f;
  p = p * u + 0.11283597463522581f;
  p = p * u + -0.3761262690358272f;
  p = p * u + 1.1283791658815034f;
  const float small = z * p;
  const float w = std::min(z, 3.92f) - 2.0f;
  float q = -4.720015246041296e-07f;
  q = q * w + 4.224371224865549e-06f;
  q = q * w + -1.813770407268483e-05f;
  q = q * w + 5.839233567342718e-05f;
  q = q * w + -0.00018394513862573456f;
  q = q * w + 0.0005895041297983667f;
  q = q * w + -0.0018313432647297375f;
  q = q * w + 0.0054419965686516615f;
  q = q * w + -0.0154608732592945f;
  q = q * w + 0.04180256177720193f;
  q = q * w + -0.10679643778848132f;
  q = q * w + 0.25539568120893624f;
  const float big = 1.0f - exp_nonpositive(-u) * q;
  return std::copysign(z < 1.0f ? small : big, x);
}

}  // namespace sf::model
