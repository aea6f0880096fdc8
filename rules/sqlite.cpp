// sqlite.cpp: see sqlite.h.
#include "rules/sqlite.h"

#include <sqlite3.h>

#include "rules/errors.h"

namespace sf::rules::sql {

Db::Db(const std::string& path, int flags) : path_(path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open rules database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(std::string_view what, int rc) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
    throw StoreError("rules database " + path_ + " is corrupt or not a SQLite database (" + msg +
                     "); it was left unchanged: restore it from a backup or move it away");
  }
  throw StoreError("rules database " + path_ + ": " + std::string(what) + ": " + msg);
}

void Db::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    fail(s.substr(0, 60), rc);
  }
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Stmt::Stmt(Db& db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db.raw(), sql.data(), static_cast<int>(sql.size()), &st_, nullptr);
  if (rc != SQLITE_OK) db.fail("prepare " + std::string(sql.substr(0, 60)), rc);
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::bind(int i, int64_t v) {
  if (int rc = sqlite3_bind_int64(st_, i, v); rc != SQLITE_OK) db_.fail("bind", rc);
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  if (int rc = sqlite3_bind_double(st_, i, v); rc != SQLITE_OK) db_.fail("bind", rc);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail("bind", rc);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (int rc = sqlite3_bind_null(st_, i); rc != SQLITE_OK) db_.fail("bind", rc);
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(sqlite3_sql(st_) ? std::string_view(sqlite3_sql(st_)).substr(0, 60) : "step", rc);
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int64_t Stmt::i64(int col) const { return sqlite3_column_int64(st_, col); }
double Stmt::f64(int col) const { return sqlite3_column_double(st_, col); }
bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(st_, col);
  int n = sqlite3_column_bytes(st_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

Txn::Txn(Db& db, bool immediate) : db_(db) { db_.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); }

Txn::~Txn() {
  if (open_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Txn::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace sf::rules::sql
