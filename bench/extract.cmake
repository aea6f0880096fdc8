# bench_extract: single-thread messages/s and MB/s of mail extraction (model/mail.h) over a
# generated set of mixed messages, or over files/directories given as arguments.
add_executable(bench_extract ${CMAKE_CURRENT_LIST_DIR}/bench_extract.cpp)
target_link_libraries(bench_extract PRIVATE sf_common sf_mail)
