# training/: token cache and corpus readers, calibration and head training,
# and the CPU forward/backward of full fine-tuning (docs/training.md).
sf_add_test(test_training_data
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_training_data.cpp
  LIBS sf_training
  LABELS training)
sf_add_test(test_training_head
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_training_head.cpp
  LIBS sf_training
  LABELS training)
sf_add_test(test_training_grad
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_training_grad.cpp
  LIBS sf_training sf_conformance
  LABELS training)
sf_add_test(test_training_e2e
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_training_e2e.cpp
  LIBS sf_training
  LABELS training)
