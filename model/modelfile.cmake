# sf_modelfile: safetensors reader/writer, the Spamformer model file, the Hugging Face importer,
# and the batch check every backend uses (batch.cpp).
add_library(sf_modelfile STATIC
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/import_hf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/batch.cpp)
target_link_libraries(sf_modelfile PUBLIC sf_common nlohmann_json::nlohmann_json)
