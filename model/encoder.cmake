# Encoder: the fp32 CPU reference encoder (OpenBLAS) and the "cpu-fp32" backend
# (cpu_backend.h), with make_cpu_backend and spam_probability from backend.h.
add_library(sf_encoder STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cpu_encoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_rowops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_backend.cpp)
target_link_libraries(sf_encoder PUBLIC sf_common sf_modelfile BLAS::BLAS Threads::Threads)
target_include_directories(sf_encoder PRIVATE ${CBLAS_INCLUDE_DIR})
# The attention and element-wise loops are written to vectorise; GCC does that at -O3
# (at -O2 its "very cheap" cost model leaves loops of unknown length scalar). In ISO C++
# mode GCC does not fuse a * b + c into FMA unless told to.
target_compile_options(sf_encoder PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3> -ffp-contract=fast)
