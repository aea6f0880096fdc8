# Tokenizer: BERT WordPiece (uncased), byte-for-byte compatible with Hugging Face's slow
# BertTokenizer for the all-MiniLM-L6-v2 vocabulary (tokenizer.h). Unicode data: utf8proc.
add_library(sf_tokenizer STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_trie.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_unicode.cpp)
target_link_libraries(sf_tokenizer PUBLIC sf_common PkgConfig::UTF8PROC)
