# bench_encoder: messages/s of the fp32 CPU reference encoder (lengths 128/256, batches 1/8/32).
add_executable(bench_encoder ${CMAKE_CURRENT_LIST_DIR}/bench_encoder.cpp)
target_link_libraries(bench_encoder PRIVATE sf_common sf_encoder sf_modelfile)
