// cpu_rowops.h: the CPU encoder's row-wise maps, LayerNorm and exact GELU.
//
// Promises: layer_norm normalises one row with the biased variance (as PyTorch does)
// and eps inside the square root; gelu is x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) with
// erf from cpu_math.h (as accurate as libm's erff). Both are compiled for AVX-512, AVX2
// and baseline x86-64 and touch only the floats they are given, so they are thread-safe.
// Failure: none.
#pragma once

#include <cstddef>

namespace sf::model {

// x = (x - mean) / sqrt(var + eps) * g + b over one row of n floats.
void layer_norm(float* x, const float* g, const float* b, size_t n, float eps);

// x = GELU(x) elementwise over n floats.
void gelu(float* x, size_t n);

}  // namespace sf::model
