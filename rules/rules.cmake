# rules/: the business-rule engine (pure evaluation), its SQLite store, the
# verdict writer and the what-if replay. Knows nothing of model/ or service/.
find_package(SQLite3 REQUIRED)
add_library(sf_rules STATIC
  address.cpp
  engine.cpp
  evaluate.cpp
  rule.cpp
  rule_set.cpp
  schema.cpp
  sha256.cpp
  sqlite.cpp
  store.cpp
  text.cpp
  toml_io.cpp
  verdict.cpp
  verdict_writer.cpp
  what_if.cpp)
target_link_libraries(sf_rules PUBLIC sf_common nlohmann_json::nlohmann_json Threads::Threads
                               PRIVATE SQLite::SQLite3 PkgConfig::TOMLPP)
