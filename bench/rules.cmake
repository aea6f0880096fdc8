# Rule engine: decisions/s with 10,000 rules and 100,000 list entries.
add_executable(bench_rules ${CMAKE_CURRENT_LIST_DIR}/bench_rules.cpp)
target_link_libraries(bench_rules PRIVATE sf_common sf_rules)
