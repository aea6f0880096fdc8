# service/: the training subcommands (`spamformer prepare-data`, `spamformer
# train`; docs/training.md), added to the spamformer executable (service.cmake,
# included before this file).
target_sources(spamformer PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cmd_prepare_data.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/cmd_train.cpp)
target_link_libraries(spamformer PRIVATE sf_training)
target_include_directories(spamformer PRIVATE ${CBLAS_INCLUDE_DIR})
