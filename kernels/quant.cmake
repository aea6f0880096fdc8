# Quantized CUDA backends "cuda-int8" and "cuda-fp8" (quant_backend.h): cuBLASLt int8 / fp8
# tensor-core products, fused dequantize/quantize epilogues, tensor-core attention, CUDA
# graphs; part of sf_cuda, beside the fp32 backend (cuda.cmake), whose kernels it shares.
if(SPAMFORMER_HAVE_CUDA)
  target_sources(sf_cuda PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/quant_backend.cu
    ${CMAKE_CURRENT_LIST_DIR}/quant_epilogue.cu
    ${CMAKE_CURRENT_LIST_DIR}/attention_mma.cu
    ${CMAKE_CURRENT_LIST_DIR}/lt_gemm.cu)
  target_link_libraries(sf_cuda PUBLIC CUDA::cublasLt)
endif()
