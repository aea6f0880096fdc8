# CUDA backend "cuda-fp32" (cuda_backend.h): fp32 weights on the device, cuBLAS SGEMM
# (no TF32) for the linear layers, own kernels for the rest. Only configured when the
# top level found nvcc (SPAMFORMER_HAVE_CUDA); CI compiles it, the GPU machine runs it.
if(SPAMFORMER_HAVE_CUDA)
  # sf_common asks for C++20, which CMake maps to CUDA20 for .cu files; CMake before 3.26
  # does not know nvcc's flag for it (nvcc >= 12 supports it), so name it here.
  if(CMAKE_VERSION VERSION_LESS 3.26 AND NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
  endif()
  add_library(sf_cuda STATIC
    ${CMAKE_CURRENT_LIST_DIR}/cuda_backend.cu
    ${CMAKE_CURRENT_LIST_DIR}/embedding.cu
    ${CMAKE_CURRENT_LIST_DIR}/layernorm.cu
    ${CMAKE_CURRENT_LIST_DIR}/gelu.cu
    ${CMAKE_CURRENT_LIST_DIR}/attention.cu
    ${CMAKE_CURRENT_LIST_DIR}/pooling.cu)
  target_compile_options(sf_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${SPAMFORMER_WERROR}>>:--Werror=all-warnings>)
  target_link_libraries(sf_cuda PUBLIC sf_common sf_modelfile CUDA::cudart_static CUDA::cublas)

  # Throughput of the CUDA backend on a random MiniLM-shaped model (messages/s).
  add_executable(bench_cuda ${CMAKE_CURRENT_LIST_DIR}/bench_cuda.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/bench_cuda_ops.cpp)
  target_link_libraries(bench_cuda PRIVATE sf_common sf_cuda)
endif()
