// cpu_attention.h: scaled dot-product attention of one head over one sequence, the
// CPU encoder's only step that is not a GEMM or a row-wise map.
//
// What it does: for every query row i < len,
//   out[i] = sum_j softmax_j(scale * q[i] . k[j]) v[j]
// over all len keys (no mask: a padding-free sequence attends to all its tokens). The
// softmax subtracts the row maximum before exp, so no logit overflows.
// Promises: fp32 throughout; loops are blocked so the compiler keeps the partial sums in
// vector registers, and the function is compiled for AVX-512, AVX2 and baseline x86-64,
// chosen at load time. Thread-safe: it writes only `out` and `scratch`.
// Failure: none; sizes are the caller's to get right (see attention_scratch_floats).
#pragma once

#include <cstddef>

namespace sf::model {

// Floats of scratch attention_head needs for a sequence of len tokens and head size d.
size_t attention_scratch_floats(size_t len, size_t d);

// q, k, v: row r of the head's query/key/value at q + r * ld_in (d floats each);
// out: row r at out + r * ld_out (d floats, overwritten).
void attention_head(const float* q, const float* k, const float* v, size_t ld_in, float* out,
                    size_t ld_out, size_t len, size_t d, float scale, float* scratch);

}  // namespace sf::model
