# The daemon (service/serve*.h, scheduler.h, spamd*, http*): the batcher and
# engine with fault injection, the spamd and HTTP protocols over loopback, and
# the end-to-end test of `spamformer serve` with the real spamc client.
sf_add_test(test_scheduler SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scheduler.cpp
            LIBS sf_daemon LABELS unit)
sf_add_test(test_spamd_protocol SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spamd_protocol.cpp
            LIBS sf_daemon LABELS unit)
sf_add_test(test_spamd_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spamd_server.cpp
            LIBS sf_daemon LABELS unit)
sf_add_test(test_http_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_http_server.cpp
            LIBS sf_daemon LABELS unit)
add_test(NAME spamc_end_to_end
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/spamc_test.sh $<TARGET_FILE:spamformer>
                 ${CMAKE_CURRENT_BINARY_DIR}/spamc_work ${PROJECT_SOURCE_DIR})
set_tests_properties(spamc_end_to_end PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
# libFuzzer targets of the spamd and HTTP parsers, 20 s each, where clang
# with its libFuzzer runtime is installed (skipped otherwise).
# The parsers' libFuzzer targets run from scripts/fuzz.sh (scripts/test.sh calls it).
# The milter protocol (service/milter_protocol.h) and adapter over loopback.
sf_add_test(test_milter_protocol SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_milter_protocol.cpp
            LIBS sf_daemon LABELS unit)
# Postfix end to end (tests/postfix_test.sh): a Postfix instance of its own on
# loopback with smtpd_milters pointing at `spamformer serve`; needs root and
# the postfix and swaks packages (skipped otherwise).
add_test(NAME postfix_end_to_end
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/postfix_test.sh $<TARGET_FILE:spamformer>
                 ${CMAKE_CURRENT_BINARY_DIR}/postfix_work ${PROJECT_SOURCE_DIR})
set_tests_properties(postfix_end_to_end PROPERTIES LABELS integration TIMEOUT 300
                                                   SKIP_RETURN_CODE 77)
sf_add_test(test_milter_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_milter_server.cpp
            LIBS sf_daemon LABELS unit)
