# Tokenizer: golden cases from the Python reference (tests/data/tokenizer/golden.tsv, made by
# scripts/gen_tokenizer_golden.py) plus unit tests of the API edges.
sf_add_test(test_tokenizer
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer.cpp
  LIBS sf_tokenizer
  LABELS model tokenizer)
