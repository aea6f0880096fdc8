# bench_spamd: load generator for the spamd interface of a running daemon
# (bench/spamd_load.sh starts one and runs it).
find_package(Boost 1.74 REQUIRED)
add_executable(bench_spamd ${CMAKE_CURRENT_LIST_DIR}/bench_spamd.cpp)
target_link_libraries(bench_spamd PRIVATE sf_common Boost::headers Threads::Threads)
