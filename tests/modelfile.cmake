# Model file tests: the safetensors container, the Spamformer model file, the Hugging Face importer.
sf_add_test(test_safetensors SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_safetensors.cpp
            LIBS sf_modelfile LABELS modelfile)
sf_add_test(test_model_file SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_file.cpp
            LIBS sf_modelfile LABELS modelfile)
