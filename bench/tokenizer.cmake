# bench_tokenizer: single-thread MB/s and tokens/s of the WordPiece tokenizer on generated
# mixed text (or on a file given as the first argument).
add_executable(bench_tokenizer ${CMAKE_CURRENT_LIST_DIR}/bench_tokenizer.cpp)
target_link_libraries(bench_tokenizer PRIVATE sf_common sf_tokenizer)
target_compile_definitions(bench_tokenizer PRIVATE
  SF_TOKENIZER_VOCAB="${PROJECT_SOURCE_DIR}/tests/data/tokenizer/vocab.txt")
