# Head files: the shipped trained head joined to the fetched encoder.
sf_add_test(test_head_file SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_head_file.cpp
            LIBS sf_headfile sf_conformance sf_encoder LABELS model)
