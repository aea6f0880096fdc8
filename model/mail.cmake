# sf_mail: raw RFC 822 mail -> the text the model reads (subject, sender, bodies, file names).
add_library(sf_mail STATIC
  ${CMAKE_CURRENT_LIST_DIR}/mail.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mail_header.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mail_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mail_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/charset.cpp
  ${CMAKE_CURRENT_LIST_DIR}/html_text.cpp)
target_link_libraries(sf_mail PUBLIC sf_common PRIVATE PkgConfig::MIMETIC PkgConfig::GUMBO
                      PkgConfig::UCHARDET)

# libFuzzer harness (fuzz/mail_fuzz.cpp), only with clang; not part of `all`.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND EXISTS ${PROJECT_SOURCE_DIR}/fuzz/mail_fuzz.cpp)
  add_executable(mail_fuzz EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/fuzz/mail_fuzz.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mail.cpp ${CMAKE_CURRENT_LIST_DIR}/mail_header.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mail_codec.cpp ${CMAKE_CURRENT_LIST_DIR}/mail_text.cpp
    ${CMAKE_CURRENT_LIST_DIR}/charset.cpp ${CMAKE_CURRENT_LIST_DIR}/html_text.cpp)
  target_compile_options(mail_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(mail_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(mail_fuzz PRIVATE sf_common PkgConfig::MIMETIC PkgConfig::GUMBO
                        PkgConfig::UCHARDET)
endif()
