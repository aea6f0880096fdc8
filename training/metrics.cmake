# Evaluation metrics (metrics.h) and manifest reading (manifest.h): used by `spamformer eval` and the trainer.
add_library(sf_metrics STATIC ${CMAKE_CURRENT_LIST_DIR}/metrics.cpp ${CMAKE_CURRENT_LIST_DIR}/manifest.cpp)
target_link_libraries(sf_metrics PUBLIC sf_common)
