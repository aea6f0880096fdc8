# A classification head on its own (head_file.h): shipped in models/, joined to the fetched encoder.
add_library(sf_headfile STATIC ${CMAKE_CURRENT_LIST_DIR}/head_file.cpp)
target_link_libraries(sf_headfile PUBLIC sf_common sf_modelfile)
