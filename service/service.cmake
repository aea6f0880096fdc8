# The `spamformer` command and the service core it is built from.
add_library(sf_service STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cli.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backend_select.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scorer.cpp)
target_link_libraries(sf_service PUBLIC sf_common sf_pipeline sf_encoder sf_modelfile
                                        PkgConfig::TOMLPP nlohmann_json::nlohmann_json)
if(SPAMFORMER_HAVE_CUDA)
  target_link_libraries(sf_service PUBLIC sf_cuda)
  target_compile_definitions(sf_service PUBLIC SF_WITH_CUDA=1)
endif()

add_executable(spamformer
  ${CMAKE_CURRENT_LIST_DIR}/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_classify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_import_hf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_version.cpp)
target_include_directories(spamformer PRIVATE ${CBLAS_INCLUDE_DIR})
target_link_libraries(spamformer PRIVATE sf_service sf_metrics sf_cmd_rules sf_headfile)
# build/spamformer, where the README and the scripts expect it.
set_target_properties(spamformer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
install(TARGETS spamformer RUNTIME DESTINATION bin)
