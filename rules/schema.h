// schema.h: the rules database schema as an ordered list of migrations.
// Version n is reached by applying migrations 1..n in order; the version is
// kept in PRAGMA user_version and the file is marked with PRAGMA
// application_id, so a foreign SQLite file is never mistaken for ours.
//
// To change the schema: append a migration (never edit a released one), and
// extend tests/test_rules_store.cpp's migration test with data valid at the
// old version.
// Promises: each migration runs in one transaction with its version bump.
// Failure: StoreError from the SQL (a bug, or a database changed by hand).
#pragma once

#include <string_view>
#include <vector>

namespace sf::rules {

namespace sql {
class Db;
}

inline constexpr int kApplicationId = 0x53465231;  // "SFR1"

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

const std::vector<Migration>& migrations();
int latest_schema_version();

// Applies the migrations above the database's version up to target, each in
// its own IMMEDIATE transaction (so concurrent openers do not both apply one).
void migrate(sql::Db& db, int target);

}  // namespace sf::rules
