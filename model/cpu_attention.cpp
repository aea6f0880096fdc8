// cpu_attention.cpp: see cpu_attention.h.
//
// Keys are copied transposed (and pre-multiplied by the scale) into scratch as
// kt[c][j], padded with zero columns to a multiple of kBlock, so the scores of one query
// against kBlock keys are kBlock independent sums over c that live in one or two vector
// registers. The same blocking over the head dimension serves the P.V product. exp is
// exp_nonpositive (cpu_math.h), so it vectorises too.
#include "model/cpu_attention.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "model/cpu_math.h"

namespace sf::model {
namespace {

constexpr size_t kBlock = 16;

size_t padded(size_t len) { return (len + kBlock - 1) / kBlock * kBlock; }

// kBlock floats as one GCC/Clang generic vector: one zmm register under AVX-512, two
// ymm under AVX2, four xmm otherwise. Loaded and stored with memcpy (no alignment).
using Vec = float __attribute__((vector_size(kBlock * sizeof(float))));

// p[0, len) := softmax(p[0, len)); p[len, lp) := 0.
SF_INLINE void softmax_row(float* p, size_t len, size_t lp) {
  std::fill(p + len, p + lp, p[0]);  // padding must not raise the maximum
  Vec lane, x;
  std::memcpy(&lane, p, sizeof lane);
  for (size_t j0 = kBlock; j0 < lp; j0 += kBlock) {
    std::memcpy(&x, p + j0, sizeof x);
    lane = lane > x ? lane : x;
  }
  float mx = lane[0];
  for (size_t jj = 1; jj < kBlock; ++jj) mx = std::max(mx, lane[jj]);
  for (size_t j = 0; j < lp; ++j) p[j] = exp_nonpositive(p[j] - mx);
  std::fill(p + len, p + lp, 0.0f);
  Vec acc = {};
  for (size_t j0 = 0; j0 < lp; j0 += kBlock) {
    std::memcpy(&x, p + j0, sizeof x);
    acc += x;
  }
  float sum = 0.0f;
  for (size_t jj = 0; jj < kBlock; ++jj) sum += acc[jj];
  const float inv = 1.0f / sum;
  for (size_t j = 0; j < len; ++j) p[j] *= inv;
}

// Scores, softmax and P.V for R consecutive query rows. R rows share every load of a
// key or value block, and their R independent accumulators hide the FMA latency.
template <size_t R>
SF_INLINE void query_rows(const float* q, size_t ld_in, const float* kt, size_t lp, const float* v,
                          float* out, size_t ld_out, size_t len, size_t d, float* p) {
  Vec acc[R], x;
  for (size_t j0 = 0; j0 < lp; j0 += kBlock) {
    for (size_t r = 0; r < R; ++r) acc[r] = Vec{};
    for (size_t c = 0; c < d; ++c) {
      std::memcpy(&x, kt + c * lp + j0, sizeof x);
      for (size_t r = 0; r < R; ++r) acc[r] += q[r * ld_in + c] * x;
    }
    for (size_t r = 0; r < R; ++r) std::memcpy(p + r * lp + j0, &acc[r], sizeof x);
  }
  for (size_t r = 0; r < R; ++r) softmax_row(p + r * lp, len, lp);

  size_t c0 = 0;
  for (; c0 + kBlock <= d; c0 += kBlock) {
    for (size_t r = 0; r < R; ++r) acc[r] = Vec{};
    for (size_t j = 0; j < len; ++j) {
      std::memcpy(&x, v + j * ld_in + c0, sizeof x);
      for (size_t r = 0; r < R; ++r) acc[r] += p[r * lp + j] * x;
    }
    for (size_t r = 0; r < R; ++r) std::memcpy(out + r * ld_out + c0, &acc[r], sizeof x);
  }
  if (c0 < d) {  // head sizes that are not a multiple of kBlock
    for (size_t r = 0; r < R; ++r) {
      float* o = out + r * ld_out;
      std::fill(o + c0, o + d, 0.0f);
      for (size_t j = 0; j < len; ++j) {
        const float pj = p[r * lp + j];
        const float* vr = v + j * ld_in;
        for (size_t c = c0; c < d; ++c) o[c] += pj * vr[c];
      }
    }
  }
}

constexpr size_t kRows = 4;

}  // namespace

size_t attention_scratch_floats(size_t len, size_t d) { return (d + kRows) * padded(len); }

SF_MULTIVERSION
void attention_head(const float* q, const float* k, const float* v, size_t ld_in, float* out,
                    size_t ld_out, size_t len, size_t d, float scale, float* scratch) {
  const size_t lp = padded(len);
  float* kt = scratch;     // [d][lp]: scaled keys, transposed, zero padding columns
  float* p = kt + d * lp;  // [kRows][lp]: scores, then probabilities
  for (size_t j = 0; j < len; ++j) {
    const float* kj = k + j * ld_in;
    for (size_t c = 0; c < d; ++c) kt[c * lp + j] = kj[c] * scale;
  }
  for (size_t c = 0; c < d; ++c) std::fill(kt + c * lp + len, kt + (c + 1) * lp, 0.0f);

  size_t i = 0;
  for (; i + kRows <= len; i += kRows) {
    query_rows<kRows>(q + i * ld_in, ld_in, kt, lp, v, out + i * ld_out, ld_out, len, d, p);
  }
  for (; i < len; ++i) {
    query_rows<1>(q + i * ld_in, ld_in, kt, lp, v, out + i * ld_out, ld_out, len, d, p);
  }
}

}  // namespace sf::model
