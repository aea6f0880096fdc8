# Encoder: the fp32 CPU reference encoder against PyTorch goldens, and the backend
# conformance harness (conformance.h, reused by other backends' tests) applied to the
# CPU backend. MiniLM tests skip unless SPAMFORMER_BASE_MODEL_DIR (or
# ~/.cache/spamformer/all-MiniLM-L6-v2) holds the Hugging Face checkpoint.
add_library(sf_conformance STATIC ${CMAKE_CURRENT_LIST_DIR}/conformance.cpp)
target_link_libraries(sf_conformance PUBLIC sf_common sf_encoder sf_modelfile GTest::gtest)
target_compile_definitions(sf_conformance PRIVATE SF_TEST_DATA="${SF_TEST_DATA}")

sf_add_test(test_encoder
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_encoder.cpp
  LIBS sf_conformance sf_encoder sf_modelfile nlohmann_json::nlohmann_json
  LABELS model)
sf_add_test(test_backend_conformance
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_backend_conformance.cpp
  LIBS sf_conformance sf_encoder sf_modelfile
  LABELS model conformance)
