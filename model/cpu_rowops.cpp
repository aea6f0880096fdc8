// cpu_rowops.cpp: see cpu_rowops.h. Sums run in kLanes independent lanes so the compiler
// vectorises them without reassociating anything.
#include "model/cpu_rowops.h"

#include <cmath>

#include "model/cpu_math.h"

namespace sf::model {
namespace {

constexpr size_t kLanes = 16;

SF_INLINE float lane_sum(const float* lanes) {
  float s = 0.0f;
  for (size_t i = 0; i < kLanes; ++i) s += lanes[i];
  return s;
}

}  // namespace

SF_MULTIVERSION
void layer_norm(float* x, const float* g, const float* b, size_t n, float eps) {
  const size_t nv = n / kLanes * kLanes;
  float acc[kLanes] = {};
  for (size_t i = 0; i < nv; i += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  }
  float sum = lane_sum(acc);
  for (size_t i = nv; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float sq_acc[kLanes] = {};
  for (size_t i = 0; i < nv; i += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) {
      const float d = x[i + l] - mean;
      sq_acc[l] += d * d;
    }
  }
  float sq = lane_sum(sq_acc);
  for (size_t i = nv; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(sq / static_cast<float>(n) + eps);
  for (size_t i = 0; i < n; ++i) x[i] = (x[i] - mean) * inv * g[i] + b[i];
}

SF_MULTIVERSION
void gelu(float* x, size_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + erf_f32(x[i] * kInvSqrt2));
}

}  // namespace sf::model
