# Service core: config, CLI parser, metrics, manifest; end-to-end checks of the command.
sf_add_test(test_service_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_service_config.cpp
            LIBS sf_service LABELS unit)
sf_add_test(test_metrics SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics.cpp
            LIBS sf_metrics LABELS unit)
add_test(NAME cli_end_to_end
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_test.sh $<TARGET_FILE:spamformer>
                 ${CMAKE_CURRENT_BINARY_DIR}/cli_work ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_end_to_end PROPERTIES LABELS integration TIMEOUT 300)
