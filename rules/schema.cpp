// schema.cpp: see schema.h.
#include "rules/schema.h"

#include <string>

#include "rules/errors.h"
#include "rules/sqlite.h"

namespace sf::rules {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1, "configuration: rules, lists, thresholds, settings, tenants, audit", R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', '0');
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE thresholds (
  scope TEXT NOT NULL CHECK (scope IN ('global', 'domain', 'user')),
  key TEXT NOT NULL,
  spam REAL,
  suspect REAL,
  PRIMARY KEY (scope, key)
);
CREATE TABLE tenants (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL
);
CREATE TABLE lists (
  id INTEGER PRIMARY KEY,
  list TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('global', 'domain', 'user')),
  key TEXT NOT NULL,
  entry TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  UNIQUE (list, scope, key, entry)
);
CREATE TABLE rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL CHECK (scope IN ('global', 'domain', 'user')),
  key TEXT NOT NULL,
  priority INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  match TEXT NOT NULL,
  actions TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE INDEX audit_time ON audit (time);
)sql"},
      {2, "logs: verdicts and feedback", R"sql(
CREATE TABLE verdicts (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  message_hash TEXT NOT NULL,
  sender_domain TEXT NOT NULL,
  recipient_domain TEXT NOT NULL,
  recipient_hash TEXT NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  probability REAL,
  model_version TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  actions TEXT NOT NULL
);
CREATE INDEX verdicts_time ON verdicts (time);
CREATE TABLE feedback (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('spamc', 'http', 'imap')),
  message_hash TEXT NOT NULL,
  label TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
  user TEXT NOT NULL DEFAULT ''
);
CREATE INDEX feedback_time ON feedback (time);
CREATE INDEX feedback_hash ON feedback (message_hash);
)sql"},
  };
  return list;
}

int latest_schema_version() { return migrations().back().version; }

void migrate(sql::Db& db, int target) {
  for (const auto& m : migrations()) {
    if (m.version > target) break;
    sql::Txn txn(db, true);
    int current = 0;
    {
      sql::Stmt v(db, "PRAGMA user_version");
      v.step();
      current = static_cast<int>(v.i64(0));
    }
    if (current >= m.version) continue;  // done by us earlier or by another process
    if (current != m.version - 1) {
      throw StoreError("rules database " + db.path() + " is at schema version " +
                       std::to_string(current) + " and cannot take migration " +
                       std::to_string(m.version));
    }
    db.exec(m.sql);
    if (m.version == 1) db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    txn.commit();
  }
}

}  // namespace sf::rules
