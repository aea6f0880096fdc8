# tests/: the rules engine, its store, verdict log, what-if, and the `rules` command.
find_package(SQLite3 REQUIRED)
sf_add_test(test_rules
  SOURCES test_rules_util.cpp test_rules_engine.cpp test_rules_store.cpp
          test_rules_concurrency.cpp test_rules_verdicts.cpp
  LIBS sf_rules SQLite::SQLite3
  LABELS rules)
sf_add_test(test_rules_cli SOURCES test_rules_cli.cpp LIBS sf_cmd_rules sf_rules LABELS rules)
# The daemon's HTTP admin endpoints for the rules (service/http_admin.h).
sf_add_test(test_http_admin SOURCES test_http_admin.cpp LIBS sf_daemon sf_cmd_rules
            LABELS rules)
