// quant_device.cuh: device helpers shared by the quantized kernels (quant_epilogue.cu,
// attention_mma.cu): 4- and 2-wide loads that turn int32 / fp32 / fp16 into float, the
// per-token quantizing store, and warp reductions.
// Promises: device-only, no synchronisation beyond the warp; the pointers passed to the
// wide loads and stores are aligned to their width (the backend keeps every row and
// every column offset a multiple of 4 elements).
// Failure: none (pure arithmetic).
#pragma once

#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/quant_ops.cuh"

namespace sf::cuda {

__device__ __forceinline__ float4 load4(const int32_t* p) {
  const int4 v = *reinterpret_cast<const int4*>(p);
  return make_float4(static_cast<float>(v.x), static_cast<float>(v.y), static_cast<float>(v.z),
                     static_cast<float>(v.w));
}
__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}
__device__ __forceinline__ float4 load4(const __half* p) {
  const __half2* h = reinterpret_cast<const __half2*>(p);
  const float2 a = __half22float2(h[0]);
  const float2 b = __half22float2(h[1]);
  return make_float4(a.x, a.y, b.x, b.y);
}
__device__ __forceinline__ float2 load2(const int32_t* p) {
  const int2 v = *reinterpret_cast<const int2*>(p);
  return make_float2(static_cast<float>(v.x), static_cast<float>(v.y));
}
__device__ __forceinline__ float2 load2(const float* p) {
  return *reinterpret_cast<const float2*>(p);
}

// acc * s * w + b, component-wise (s: the token's scale).
__device__ __forceinline__ float4 dequant4(float4 acc, float s, float4 w, float4 b) {
  return make_float4(fmaf(acc.x * s, w.x, b.x), fmaf(acc.y * s, w.y, b.y),
                     fmaf(acc.z * s, w.z, b.z), fmaf(acc.w * s, w.w, b.w));
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ float max_abs4(float4 v) {
  return fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
}

// Four values times `inv` (= qmax / row max), rounded to the format, stored as 4 bytes.
__device__ __forceinline__ void store_q4(int8_t* p, float4 v, float inv) {
  auto q = [inv](float x) { return max(-127, min(127, __float2int_rn(x * inv))); };
  *reinterpret_cast<char4*>(p) =
      make_char4(static_cast<signed char>(q(v.x)), static_cast<signed char>(q(v.y)),
                 static_cast<signed char>(q(v.z)), static_cast<signed char>(q(v.w)));
}
__device__ __forceinline__ void store_q4(__nv_fp8_e4m3* p, float4 v, float inv) {
  const __nv_fp8x2_storage_t lo =
      __nv_cvt_float2_to_fp8x2(make_float2(v.x * inv, v.y * inv), __NV_SATFINITE, __NV_E4M3);
  const __nv_fp8x2_storage_t hi =
      __nv_cvt_float2_to_fp8x2(make_float2(v.z * inv, v.w * inv), __NV_SATFINITE, __NV_E4M3);
  *reinterpret_cast<uint32_t*>(p) = static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
}

// Both formats store zero as the all-zero byte.
template <typename Q>
__device__ __forceinline__ void store_zero4(Q* p) {
  *reinterpret_cast<uint32_t*>(p) = 0u;
}

}  // namespace sf::cuda
