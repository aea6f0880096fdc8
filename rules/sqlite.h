// sqlite.h: a thin RAII layer over the SQLite C API for the rules store:
// a connection, prepared statements with typed binds and columns, and
// transactions that roll back unless committed.
// Promises: every SQLite error becomes a StoreError that names the database
// file and the SQLite message; nothing is retried here (the busy timeout set
// on the connection does the waiting).
// Failure: StoreError (I/O, corruption, locking beyond the busy timeout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sf::rules::sql {

class Db {
 public:
  // flags: SQLITE_OPEN_* values.
  Db(const std::string& path, int flags);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);  // one or more statements, no results
  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(std::string_view what, int rc) const;
  int64_t changes() const;
  int64_t last_insert_rowid() const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // true: a row is ready; false: done.
  bool step();
  void run() { step(); }  // a statement without results
  void reset();

  int64_t i64(int col) const;
  double f64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* st_ = nullptr;
};

class Txn {
 public:
  // immediate: take the write lock now (for changes); else a read snapshot.
  Txn(Db& db, bool immediate);
  ~Txn();
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace sf::rules::sql
