// store.h: the rules database (SQLite, WAL): configuration (rules, lists,
// thresholds, settings, tenants), the audit log, the verdict log and the
// feedback table. The `spamformer rules` command and the daemon's HTTP admin
// endpoints call these same functions; each change is one transaction that
// also writes its audit row and bumps the change counter (generation) a
// running daemon polls to reload.
//
// Promises: a database written by a newer spamformer, a corrupt file, or a
// SQLite file that is not ours is refused with a StoreError and left byte for
// byte unchanged (never replaced by defaults); older schemas are migrated in
// place. load_config() reads one consistent snapshot. All methods are
// thread-safe (one connection, serialized); give a thread that writes a lot
// (the verdict writer) its own Store.
// Failure: StoreError (the database: corrupt, too new, I/O, locked beyond the
// busy timeout), RuleError (a bad value from the administrator), NotFound (an
// id or entry that does not exist). On any error nothing was changed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "rules/verdict.h"

namespace sf::rules {

namespace sql {
class Db;
}

struct StoreOptions {
  bool create = true;          // create the file if it does not exist
  bool verify = true;          // PRAGMA quick_check on open (reads the whole file)
  int busy_timeout_ms = 5000;  // wait this long for another writer's lock
};

struct AuditEntry {
  int64_t id = 0;
  int64_t time_ms = 0;
  std::string actor;
  std::string action;     // "rule.add", "list.remove", "threshold.set", "config.import", ...
  std::string object;     // "rule 42", "block list (global) spammer.example", ...
  nlohmann::json before;  // null when the object did not exist
  nlohmann::json after;   // null when it was removed
};

enum class ThresholdKind { spam, suspect };

class Store {
 public:
  explicit Store(const std::string& path, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const;
  int schema_version();
  // Bumped by every configuration change, from any process.
  uint64_t generation();

  // ---- configuration: reads
  Config load_config(uint64_t* generation = nullptr);  // one snapshot
  std::vector<Rule> rules();
  Rule rule(int64_t id);                                              // throws NotFound
  std::vector<ListEntry> list_entries(const std::string& list = "");  // "" = all lists
  std::vector<ThresholdEntry> thresholds();
  Settings settings();
  std::vector<Tenant> tenants();
  std::vector<AuditEntry> audit(size_t limit, int64_t since_ms = 0);  // newest first

  // ---- configuration: changes (actor: who, for the audit log)
  Rule add_rule(Rule r, const std::string& actor);         // r.id 0: a new id
  Rule update_rule(Rule r, const std::string& actor);      // throws NotFound
  void remove_rule(int64_t id, const std::string& actor);  // throws NotFound
  // value nullopt: inherit again from the enclosing scope.
  ThresholdEntry set_threshold(Scope scope, const std::string& key, ThresholdKind kind,
                               std::optional<double> value, const std::string& actor);
  // Several entries in one transaction (all or none), an audit row each.
  std::vector<ListEntry> add_list_entries(std::vector<ListEntry> entries,
                                          const std::string& actor);  // RuleError if present
  void remove_list_entries(std::vector<ListEntry> entries,
                           const std::string& actor);                     // throws NotFound
  void add_tenant(Tenant t, const std::string& actor);                    // RuleError if present
  void remove_tenant(const std::string& name, const std::string& actor);  // throws NotFound
  void set_setting(const std::string& name, const std::string& value, const std::string& actor);
  // Replaces the whole configuration (rule ids given are kept).
  void import_config(Config c, const std::string& actor);

  // ---- verdict log and feedback
  void add_verdicts(const std::vector<Verdict>& v);  // one transaction
  int64_t prune_verdicts(int64_t older_than_ms);     // rows removed
  // f runs inside the store's lock and one read snapshot: it must not call
  // this Store (use another one).
  void for_each_verdict(int64_t since_ms, const std::function<void(const Verdict&)>& f);
  int64_t verdict_count();
  void add_feedback(const Feedback& f);
  std::vector<Feedback> feedback(int64_t since_ms = 0);

 private:
  std::mutex mu_;
  std::unique_ptr<sql::Db> db_;
};

// Creates a new database at an earlier schema version (for migration tests
// and upgrade drills). Throws StoreError if the file exists.
void create_database_at_version(const std::string& path, int version);

}  // namespace sf::rules
