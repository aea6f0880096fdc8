# service/: `spamformer bench` (cmd_bench.cpp): model-only speed of the backends, linked
# into the spamformer executable (defined in service.cmake, which is included after this
# file, so the link is deferred to the end of the directory). NVML is opened at run time
# (dlopen), never linked.
add_library(sf_cmd_bench STATIC ${CMAKE_CURRENT_LIST_DIR}/cmd_bench.cpp)
target_link_libraries(sf_cmd_bench PUBLIC sf_common sf_service sf_pipeline sf_encoder
                                          sf_modelfile nlohmann_json::nlohmann_json
                                          ${CMAKE_DL_LIBS})
cmake_language(DEFER CALL target_link_libraries spamformer PRIVATE sf_cmd_bench)
