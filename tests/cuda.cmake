# CUDA backend: held to the CPU reference through the conformance harness. Only where the
# CUDA backend is built; without a GPU (CI) its GPU tests report SKIPPED.
if(SPAMFORMER_HAVE_CUDA)
  sf_add_test(test_cuda_backend
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cuda_backend.cpp
    LIBS sf_cuda sf_conformance sf_encoder sf_modelfile
    LABELS cuda conformance)
endif()

# Quantized CUDA backends ("cuda-int8", "cuda-fp8"): tolerances against the CPU reference,
# graph / chunk / direct paths bitwise equal, model-file scales. SKIPPED without a GPU.
if(SPAMFORMER_HAVE_CUDA)
  sf_add_test(test_cuda_int8
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cuda_int8.cpp
    LIBS sf_cuda sf_conformance sf_encoder sf_modelfile
    LABELS cuda conformance)
endif()
