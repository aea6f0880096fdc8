# The daemon (`spamformer serve`, docs/daemon.md): the scheduler (dynamic
# batcher), the scan engine every interface shares, the listeners and the
# protocol adapters (spamd, HTTP). Boost.Asio and Boost.Beast are header-only
# (Debian: libboost-dev).
find_package(Boost 1.74 REQUIRED)
add_library(sf_daemon STATIC
  ${CMAKE_CURRENT_LIST_DIR}/scan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_policy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_listener.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_feedback.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve_rules.cpp
  ${CMAKE_CURRENT_LIST_DIR}/spamd_protocol.cpp
  ${CMAKE_CURRENT_LIST_DIR}/spamd_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/milter_protocol.cpp
  ${CMAKE_CURRENT_LIST_DIR}/milter_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_api.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_admin.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serve.cpp)
target_link_libraries(sf_daemon PUBLIC sf_common sf_service sf_rules Boost::headers
                                       Threads::Threads nlohmann_json::nlohmann_json)
# Asio without the deprecated io_service names.
target_compile_definitions(sf_daemon PUBLIC BOOST_ASIO_NO_DEPRECATED)
# GCC 12 mistakes Asio's coroutine frame allocator (awaitable_frame_base has
# its own operator new/delete pair) for a mismatched new/delete.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(sf_daemon PUBLIC $<$<COMPILE_LANGUAGE:CXX>:-Wno-mismatched-new-delete>)
endif()

# `spamformer serve` itself (the command and the real model loader). The
# executable is defined in service.cmake, which is included after this file,
# so the link is deferred to the end of the directory.
add_library(sf_serve_cmd STATIC ${CMAKE_CURRENT_LIST_DIR}/serve_main.cpp)
target_link_libraries(sf_serve_cmd PUBLIC sf_daemon sf_service)
cmake_language(DEFER CALL target_link_libraries spamformer PRIVATE sf_serve_cmd)

# libFuzzer harnesses of the protocol parsers (fuzz/<name>_fuzz.cpp), only with
# clang; not part of `all`. scripts/fuzz.sh builds and runs every *_fuzz target
# (CI: a short run each, seeded from fuzz/seeds/<target>/).
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  foreach(_proto milter spamd http)
    set(_parser ${CMAKE_CURRENT_LIST_DIR}/${_proto}_protocol.cpp)
    if(_proto STREQUAL "http")
      set(_parser ${CMAKE_CURRENT_LIST_DIR}/http_api.cpp)
    endif()
    add_executable(${_proto}_fuzz EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/fuzz/${_proto}_fuzz.cpp
                                                   ${_parser} ${CMAKE_CURRENT_LIST_DIR}/scan.cpp)
    target_compile_options(${_proto}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined
                                                  -fno-sanitize-recover=undefined)
    target_link_options(${_proto}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_compile_definitions(${_proto}_fuzz PRIVATE BOOST_ASIO_NO_DEPRECATED)
    target_link_libraries(${_proto}_fuzz PRIVATE sf_common Threads::Threads)
  endforeach()
endif()
