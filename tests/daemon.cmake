# The daemon (service/serve*.h, scheduler.h, spamd*, http*): the batcher and
# engine with fault injection, the spamd and HTTP protocols over loopback, and
# the end-to-end test of `spamformer serve` with the real spamc client.
sf_add_test(test_scheduler SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scheduler.cpp
            LIBS sf_daemon LABELS unit)
sf_add_test(test_spamd_protocol SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spamd_protocol.cpp
            LIBS sf_daemon LABELS unit)
sf_add_test(test_spamd_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spamd_server.cpp
            LIBS sf_daemon LABELS unit)
