# Pipeline: extraction + tokenization for one model (pipeline.h).
add_library(sf_pipeline STATIC ${CMAKE_CURRENT_LIST_DIR}/pipeline.cpp)
target_link_libraries(sf_pipeline PUBLIC sf_common sf_mail sf_tokenizer sf_modelfile)
