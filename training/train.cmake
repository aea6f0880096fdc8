# The trainer (docs/training.md): token cache, corpus readers, head-only
# training, calibration, and the CPU forward/backward for full fine-tuning.
add_library(sf_training STATIC
  ${CMAKE_CURRENT_LIST_DIR}/token_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/corpus.cpp
  ${CMAKE_CURRENT_LIST_DIR}/calibration.cpp
  ${CMAKE_CURRENT_LIST_DIR}/optimizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/head_train.cpp
  ${CMAKE_CURRENT_LIST_DIR}/features.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grad_ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bert_grad.cpp
  ${CMAKE_CURRENT_LIST_DIR}/finetune.cpp)
target_link_libraries(sf_training PUBLIC sf_common sf_metrics sf_pipeline sf_modelfile
                                         sf_encoder BLAS::BLAS Threads::Threads)
target_include_directories(sf_training PRIVATE ${CBLAS_INCLUDE_DIR})
target_compile_options(sf_training PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
