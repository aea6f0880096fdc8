// store.cpp: see store.h.
#include "rules/store.h"

#include <sqlite3.h>

#include <filesystem>

#include "rules/errors.h"
#include "rules/schema.h"
#include "rules/sqlite.h"
#include "rules/text.h"

namespace sf::rules {

using nlohmann::json;

namespace {

std::string scope_text(Scope s) { return std::string(scope_name(s)); }

Scope scope_from_db(const sql::Db& db, const std::string& s) {
  auto sc = parse_scope(s);
  if (!sc) throw StoreError("rules database " + db.path() + " has an unknown scope '" + s + "'");
  return *sc;
}

void write_audit(sql::Db& db, const std::string& actor, std::string_view action,
                 const std::string& object, const json& before, const json& after) {
  sql::Stmt st(db,
               "INSERT INTO audit (time, actor, action, object, before, after) "
               "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, now_ms()).bind(2, actor.empty() ? std::string("unknown") : actor).bind(3, action);
  st.bind(4, object);
  if (before.is_null()) {
    st.bind_null(5);
  } else {
    st.bind(5, before.dump());
  }
  if (after.is_null()) {
    st.bind_null(6);
  } else {
    st.bind(6, after.dump());
  }
  st.run();
}

void bump_generation(sql::Db& db) {
  db.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'");
}

uint64_t read_generation(sql::Db& db) {
  sql::Stmt st(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'");
  return st.step() ? static_cast<uint64_t>(st.i64(0)) : 0;
}

Rule rule_from_row(sql::Db& db, sql::Stmt& st) {
  Rule r;
  r.id = st.i64(0);
  try {
    r.name = st.text(1);
    r.scope = scope_from_db(db, st.text(2));
    r.key = st.text(3);
    r.priority = static_cast<int>(st.i64(4));
    r.enabled = st.i64(5) != 0;
    r.match = match_from_json(json::parse(st.text(6)));
    r.actions = actions_from_json(json::parse(st.text(7)));
  } catch (const std::exception& e) {
    throw StoreError("rule " + std::to_string(r.id) + " in rules database " + db.path() +
                     " cannot be read: " + e.what());
  }
  return r;
}

constexpr const char* kRuleColumns =
    "SELECT id, name, scope, key, priority, enabled, match, actions FROM rules";

std::vector<Rule> read_rules(sql::Db& db) {
  std::vector<Rule> out;
  sql::Stmt st(db, std::string(kRuleColumns) + " ORDER BY id");
  while (st.step()) out.push_back(rule_from_row(db, st));
  return out;
}

std::optional<Rule> read_rule(sql::Db& db, int64_t id) {
  sql::Stmt st(db, std::string(kRuleColumns) + " WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return rule_from_row(db, st);
}

std::vector<ListEntry> read_lists(sql::Db& db, const std::string& list) {
  std::vector<ListEntry> out;
  sql::Stmt st(db,
               "SELECT list, scope, key, entry, comment FROM lists WHERE ? = '' OR list = ? "
               "ORDER BY list, scope, key, entry");
  st.bind(1, list).bind(2, list);
  while (st.step()) {
    out.push_back({st.text(0), scope_from_db(db, st.text(1)), st.text(2), st.text(3), st.text(4)});
  }
  return out;
}

std::vector<ThresholdEntry> read_thresholds(sql::Db& db) {
  std::vector<ThresholdEntry> out;
  sql::Stmt st(db, "SELECT scope, key, spam, suspect FROM thresholds ORDER BY scope, key");
  while (st.step()) {
    ThresholdEntry t;
    t.scope = scope_from_db(db, st.text(0));
    t.key = st.text(1);
    if (!st.is_null(2)) t.t.spam = st.f64(2);
    if (!st.is_null(3)) t.t.suspect = st.f64(3);
    out.push_back(t);
  }
  return out;
}

Settings read_settings(sql::Db& db) {
  Settings s;
  sql::Stmt st(db, "SELECT name, value FROM settings ORDER BY name");
  while (st.step()) {
    try {
      set_setting(s, st.text(0), st.text(1));
    } catch (const RuleError& e) {
      throw StoreError("rules database " + db.path() +
                       ": stored setting cannot be used: " + e.what());
    }
  }
  return s;
}

std::vector<Tenant> read_tenants(sql::Db& db) {
  std::vector<Tenant> out;
  sql::Stmt st(db, "SELECT name, description FROM tenants ORDER BY name");
  while (st.step()) out.push_back({st.text(0), st.text(1)});
  return out;
}

std::optional<ThresholdEntry> read_threshold(sql::Db& db, Scope scope, const std::string& key) {
  for (auto& t : read_thresholds(db)) {
    if (t.scope == scope && t.key == key) return t;
  }
  return std::nullopt;
}

void insert_rule(sql::Db& db, const Rule& r, int64_t now) {
  sql::Stmt st(db,
               "INSERT INTO rules (id, name, scope, key, priority, enabled, match, actions, "
               "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (r.id) {
    st.bind(1, r.id);
  } else {
    st.bind_null(1);
  }
  st.bind(2, r.name).bind(3, scope_text(r.scope)).bind(4, r.key);
  st.bind(5, int64_t{r.priority}).bind(6, int64_t{r.enabled ? 1 : 0});
  st.bind(7, to_json(r.match).dump()).bind(8, to_json(r.actions).dump());
  st.bind(9, now).bind(10, now);
  st.run();
}

void insert_list_entry(sql::Db& db, const ListEntry& e, int64_t now) {
  sql::Stmt st(db,
               "INSERT INTO lists (list, scope, key, entry, comment, created) "
               "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, e.list).bind(2, scope_text(e.scope)).bind(3, e.key).bind(4, e.entry);
  st.bind(5, e.comment).bind(6, now).run();
}

void write_threshold(sql::Db& db, const ThresholdEntry& t) {
  if (!t.t.spam && !t.t.suspect) {
    sql::Stmt st(db, "DELETE FROM thresholds WHERE scope = ? AND key = ?");
    st.bind(1, scope_text(t.scope)).bind(2, t.key).run();
    return;
  }
  sql::Stmt st(db,
               "INSERT INTO thresholds (scope, key, spam, suspect) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (scope, key) DO UPDATE SET spam = excluded.spam, "
               "suspect = excluded.suspect");
  st.bind(1, scope_text(t.scope)).bind(2, t.key).bind(3, t.t.spam).bind(4, t.t.suspect).run();
}

void write_settings(sql::Db& db, const Settings& s) {
  db.exec("DELETE FROM settings");
  Settings defaults;
  for (const auto& name : setting_names()) {
    std::string v = get_setting(s, name);
    if (v == get_setting(defaults, name)) continue;  // only changes are stored
    sql::Stmt st(db, "INSERT INTO settings (name, value) VALUES (?, ?)");
    st.bind(1, name).bind(2, v).run();
  }
}

std::string list_object(const ListEntry& e) {
  return e.list + " list (" + scope_label(e.scope, e.key) + ") " + e.entry;
}

// canonical: validated and in export order (a value that fails is the
// database's fault: it was changed by hand or by a buggy version).
Config read_config(sql::Db& db, bool canonical) {
  Config c;
  c.settings = read_settings(db);
  c.thresholds = read_thresholds(db);
  c.tenants = read_tenants(db);
  c.lists = read_lists(db, "");
  c.rules = read_rules(db);
  if (!canonical) return c;
  try {
    return normalize(std::move(c));
  } catch (const RuleError& e) {
    throw StoreError("the configuration stored in " + db.path() + " cannot be used: " + e.what());
  }
}

// Opens, identifies and checks the file; migrates it to the latest version.
std::unique_ptr<sql::Db> open_db(const std::string& path, const StoreOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (!exists && !o.create) {
    throw StoreError("no rules database at " + path + " (create one with `spamformer rules --db " +
                     path + " init`)");
  }
  if (exists && fs::is_directory(path, ec)) {
    throw StoreError("rules database path " + path + " is a directory");
  }
  auto db = std::make_unique<sql::Db>(
      path, SQLITE_OPEN_READWRITE | (o.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX);
  sqlite3_busy_timeout(db->raw(), o.busy_timeout_ms);

  int64_t version = 0, app_id = 0, objects = 0;
  {
    sql::Stmt v(*db, "PRAGMA user_version");
    v.step();
    version = v.i64(0);
    sql::Stmt a(*db, "PRAGMA application_id");
    a.step();
    app_id = a.i64(0);
    sql::Stmt n(*db, "SELECT count(*) FROM sqlite_schema");
    n.step();
    objects = n.i64(0);
  }
  if ((version == 0 && objects > 0) || (version > 0 && app_id != kApplicationId) ||
      (app_id != 0 && app_id != kApplicationId)) {
    throw StoreError(path +
                     " is a SQLite database but not a spamformer rules database; it was left "
                     "unchanged (give --db the path of a rules database or a new file)");
  }
  if (version > latest_schema_version()) {
    throw StoreError("rules database " + path + " has schema version " + std::to_string(version) +
                     ", newer than this spamformer knows (up to " +
                     std::to_string(latest_schema_version()) +
                     "); it was left unchanged: run a newer spamformer");
  }
  if (o.verify && objects > 0) {
    sql::Stmt qc(*db, "PRAGMA quick_check(5)");
    std::string problems;
    while (qc.step()) {
      std::string line = qc.text(0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (!problems.empty()) {
      throw StoreError("rules database " + path + " is corrupt (" + problems +
                       "); it was left unchanged: restore it from a backup or move it away");
    }
  }
  {
    sql::Stmt wal(*db, "PRAGMA journal_mode = WAL");
    wal.step();
    if (lower_ascii(wal.text(0)) != "wal") {
      throw StoreError("rules database " + path + ": cannot switch to WAL mode (got " +
                       wal.text(0) + ")");
    }
  }
  db->exec("PRAGMA synchronous = NORMAL");
  migrate(*db, latest_schema_version());
  return db;
}

}  // namespace

Store::Store(const std::string& path, StoreOptions options) : db_(open_db(path, options)) {}
Store::~Store() = default;

const std::string& Store::path() const { return db_->path(); }

int Store::schema_version() {
  std::lock_guard lock(mu_);
  sql::Stmt v(*db_, "PRAGMA user_version");
  v.step();
  return static_cast<int>(v.i64(0));
}

uint64_t Store::generation() {
  std::lock_guard lock(mu_);
  return read_generation(*db_);
}

Config Store::load_config(uint64_t* generation) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, false);
  Config c = read_config(*db_, true);
  if (generation) *generation = read_generation(*db_);
  txn.commit();
  return c;
}

std::vector<Rule> Store::rules() {
  std::lock_guard lock(mu_);
  return read_rules(*db_);
}

Rule Store::rule(int64_t id) {
  std::lock_guard lock(mu_);
  auto r = read_rule(*db_, id);
  if (!r) throw NotFound("no rule with id " + std::to_string(id));
  return *r;
}

std::vector<ListEntry> Store::list_entries(const std::string& list) {
  std::lock_guard lock(mu_);
  return read_lists(*db_, list);
}

std::vector<ThresholdEntry> Store::thresholds() {
  std::lock_guard lock(mu_);
  return read_thresholds(*db_);
}

Settings Store::settings() {
  std::lock_guard lock(mu_);
  return read_settings(*db_);
}

std::vector<Tenant> Store::tenants() {
  std::lock_guard lock(mu_);
  return read_tenants(*db_);
}

std::vector<AuditEntry> Store::audit(size_t limit, int64_t since_ms) {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  sql::Stmt st(*db_,
               "SELECT id, time, actor, action, object, before, after FROM audit "
               "WHERE time >= ? ORDER BY id DESC LIMIT ?");
  st.bind(1, since_ms).bind(2, static_cast<int64_t>(limit));
  while (st.step()) {
    AuditEntry a;
    a.id = st.i64(0);
    a.time_ms = st.i64(1);
    a.actor = st.text(2);
    a.action = st.text(3);
    a.object = st.text(4);
    a.before = st.is_null(5) ? json() : json::parse(st.text(5), nullptr, false);
    a.after = st.is_null(6) ? json() : json::parse(st.text(6), nullptr, false);
    out.push_back(std::move(a));
  }
  return out;
}

Rule Store::add_rule(Rule r, const std::string& actor) {
  r = normalize(std::move(r));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  if (r.id && read_rule(*db_, r.id)) {
    throw RuleError("rule id " + std::to_string(r.id) + " is taken (use a new id or none)");
  }
  insert_rule(*db_, r, now_ms());
  r.id = db_->last_insert_rowid();
  write_audit(*db_, actor, "rule.add", "rule " + std::to_string(r.id), json(), to_json(r));
  bump_generation(*db_);
  txn.commit();
  return r;
}

Rule Store::update_rule(Rule r, const std::string& actor) {
  r = normalize(std::move(r));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  auto before = read_rule(*db_, r.id);
  if (!before) throw NotFound("no rule with id " + std::to_string(r.id));
  sql::Stmt st(*db_,
               "UPDATE rules SET name = ?, scope = ?, key = ?, priority = ?, enabled = ?, "
               "match = ?, actions = ?, updated = ? WHERE id = ?");
  st.bind(1, r.name).bind(2, scope_text(r.scope)).bind(3, r.key).bind(4, int64_t{r.priority});
  st.bind(5, int64_t{r.enabled ? 1 : 0}).bind(6, to_json(r.match).dump());
  st.bind(7, to_json(r.actions).dump()).bind(8, now_ms()).bind(9, r.id).run();
  write_audit(*db_, actor, "rule.update", "rule " + std::to_string(r.id), to_json(*before),
              to_json(r));
  bump_generation(*db_);
  txn.commit();
  return r;
}

void Store::remove_rule(int64_t id, const std::string& actor) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  auto before = read_rule(*db_, id);
  if (!before) throw NotFound("no rule with id " + std::to_string(id));
  sql::Stmt st(*db_, "DELETE FROM rules WHERE id = ?");
  st.bind(1, id).run();
  write_audit(*db_, actor, "rule.remove", "rule " + std::to_string(id), to_json(*before), json());
  bump_generation(*db_);
  txn.commit();
}

ThresholdEntry Store::set_threshold(Scope scope, const std::string& key, ThresholdKind kind,
                                    std::optional<double> value, const std::string& actor) {
  std::string k = normalize_scope_key(scope, key);
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  auto before = read_threshold(*db_, scope, k);
  ThresholdEntry t = before.value_or(ThresholdEntry{scope, k, {}});
  (kind == ThresholdKind::spam ? t.t.spam : t.t.suspect) = value;
  t = normalize(t);
  // The pair in effect at this scope (inheriting what it does not set) must
  // keep suspect <= spam.
  std::optional<double> spam = t.t.spam, suspect = t.t.suspect;
  std::string spam_from = scope_label(scope, k), suspect_from = spam_from;
  std::vector<std::pair<Scope, std::string>> parents;
  if (scope == Scope::user) parents.push_back({Scope::domain, k.substr(k.rfind('@') + 1)});
  if (scope != Scope::global) parents.push_back({Scope::global, ""});
  for (const auto& [ps, pk] : parents) {
    auto pt = read_threshold(*db_, ps, pk);
    if (!pt) continue;
    if (!spam && pt->t.spam) {
      spam = pt->t.spam;
      spam_from = scope_label(ps, pk);
    }
    if (!suspect && pt->t.suspect) {
      suspect = pt->t.suspect;
      suspect_from = scope_label(ps, pk);
    }
  }
  if (!spam) spam_from = "default";
  if (!suspect) suspect_from = "default";
  double sp = spam.value_or(kDefaultSpam), su = suspect.value_or(kDefaultSuspect);
  if (su > sp) {
    throw RuleError("suspect threshold " + format_number(su) + " (" + suspect_from +
                    ") would be above the spam threshold " + format_number(sp) + " (" + spam_from +
                    ")");
  }
  write_threshold(*db_, t);
  std::string object = "threshold " + scope_label(scope, k) + " " +
                       (kind == ThresholdKind::spam ? "spam" : "suspect");
  write_audit(*db_, actor, "threshold.set", object, before ? to_json(*before) : json(),
              (t.t.spam || t.t.suspect) ? to_json(t) : json());
  bump_generation(*db_);
  txn.commit();
  return t;
}

std::vector<ListEntry> Store::add_list_entries(std::vector<ListEntry> entries,
                                               const std::string& actor) {
  for (auto& e : entries) e = normalize(std::move(e));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  int64_t now = now_ms();
  for (const auto& e : entries) {
    sql::Stmt q(*db_, "SELECT 1 FROM lists WHERE list = ? AND scope = ? AND key = ? AND entry = ?");
    q.bind(1, e.list).bind(2, scope_text(e.scope)).bind(3, e.key).bind(4, e.entry);
    if (q.step()) {
      throw RuleError(e.entry + " is already on the " + e.list + " list (" +
                      scope_label(e.scope, e.key) + ")");
    }
    insert_list_entry(*db_, e, now);
    write_audit(*db_, actor, "list.add", list_object(e), json(), to_json(e));
  }
  bump_generation(*db_);
  txn.commit();
  return entries;
}

void Store::remove_list_entries(std::vector<ListEntry> entries, const std::string& actor) {
  for (auto& e : entries) e = normalize(std::move(e));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  for (auto& e : entries) {
    sql::Stmt q(*db_,
                "SELECT comment FROM lists WHERE list = ? AND scope = ? AND key = ? AND entry = ?");
    q.bind(1, e.list).bind(2, scope_text(e.scope)).bind(3, e.key).bind(4, e.entry);
    if (!q.step()) {
      throw NotFound(e.entry + " is not on the " + e.list + " list (" +
                     scope_label(e.scope, e.key) + ")");
    }
    e.comment = q.text(0);
    sql::Stmt st(*db_, "DELETE FROM lists WHERE list = ? AND scope = ? AND key = ? AND entry = ?");
    st.bind(1, e.list).bind(2, scope_text(e.scope)).bind(3, e.key).bind(4, e.entry).run();
    write_audit(*db_, actor, "list.remove", list_object(e), to_json(e), json());
  }
  bump_generation(*db_);
  txn.commit();
}

void Store::add_tenant(Tenant t, const std::string& actor) {
  t = normalize(std::move(t));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  sql::Stmt q(*db_, "SELECT 1 FROM tenants WHERE name = ?");
  q.bind(1, t.name);
  if (q.step()) throw RuleError("tenant '" + t.name + "' exists already");
  sql::Stmt st(*db_, "INSERT INTO tenants (name, description, created) VALUES (?, ?, ?)");
  st.bind(1, t.name).bind(2, t.description).bind(3, now_ms()).run();
  write_audit(*db_, actor, "tenant.add", "tenant " + t.name, json(), to_json(t));
  bump_generation(*db_);
  txn.commit();
}

void Store::remove_tenant(const std::string& name, const std::string& actor) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  sql::Stmt q(*db_, "SELECT description FROM tenants WHERE name = ?");
  q.bind(1, name);
  if (!q.step()) throw NotFound("no tenant named '" + name + "'");
  Tenant before{name, q.text(0)};
  sql::Stmt st(*db_, "DELETE FROM tenants WHERE name = ?");
  st.bind(1, name).run();
  write_audit(*db_, actor, "tenant.remove", "tenant " + name, to_json(before), json());
  bump_generation(*db_);
  txn.commit();
}

void Store::set_setting(const std::string& name, const std::string& value,
                        const std::string& actor) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  Settings s = read_settings(*db_);
  std::string before = get_setting(s, name);  // throws RuleError for an unknown name
  rules::set_setting(s, name, value);
  write_settings(*db_, s);
  write_audit(*db_, actor, "setting.set", "setting " + name, json(before),
              json(get_setting(s, name)));
  bump_generation(*db_);
  txn.commit();
}

void Store::import_config(Config c, const std::string& actor) {
  c = normalize(std::move(c));
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  Config before = read_config(*db_, false);
  db_->exec("DELETE FROM rules; DELETE FROM lists; DELETE FROM thresholds; DELETE FROM tenants;");
  int64_t now = now_ms();
  write_settings(*db_, c.settings);
  for (const auto& t : c.thresholds) write_threshold(*db_, t);
  for (const auto& t : c.tenants) {
    sql::Stmt st(*db_, "INSERT INTO tenants (name, description, created) VALUES (?, ?, ?)");
    st.bind(1, t.name).bind(2, t.description).bind(3, now).run();
  }
  for (const auto& e : c.lists) insert_list_entry(*db_, e, now);
  for (const auto& r : c.rules) insert_rule(*db_, r, now);
  write_audit(*db_, actor, "config.import", "configuration", to_json(before),
              to_json(read_config(*db_, true)));
  bump_generation(*db_);
  txn.commit();
}

void Store::add_verdicts(const std::vector<Verdict>& vs) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, true);
  sql::Stmt st(*db_,
               "INSERT INTO verdicts (time, message_hash, sender_domain, recipient_domain, "
               "recipient_hash, tenant, size, probability, model_version, rule_id, actions) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& v : vs) {
    st.bind(1, v.time_ms).bind(2, v.message_hash).bind(3, v.sender_domain);
    st.bind(4, v.recipient_domain).bind(5, v.recipient_hash).bind(6, v.tenant);
    st.bind(7, static_cast<int64_t>(v.size));
    if (v.probability) {
      st.bind(8, float_to_decimal(*v.probability));
    } else {
      st.bind_null(8);
    }
    st.bind(9, v.model_version).bind(10, v.rule_id).bind(11, to_json(v.actions).dump());
    st.run();
    st.reset();
  }
  txn.commit();
}

int64_t Store::prune_verdicts(int64_t older_than_ms) {
  std::lock_guard lock(mu_);
  sql::Stmt st(*db_, "DELETE FROM verdicts WHERE time < ?");
  st.bind(1, older_than_ms).run();
  return db_->changes();
}

void Store::for_each_verdict(int64_t since_ms, const std::function<void(const Verdict&)>& f) {
  std::lock_guard lock(mu_);
  sql::Txn txn(*db_, false);
  sql::Stmt st(*db_,
               "SELECT time, message_hash, sender_domain, recipient_domain, recipient_hash, "
               "tenant, size, probability, model_version, rule_id, actions FROM verdicts "
               "WHERE time >= ? ORDER BY time, id");
  st.bind(1, since_ms);
  while (st.step()) {
    Verdict v;
    v.time_ms = st.i64(0);
    v.message_hash = st.text(1);
    v.sender_domain = st.text(2);
    v.recipient_domain = st.text(3);
    v.recipient_hash = st.text(4);
    v.tenant = st.text(5);
    v.size = static_cast<uint64_t>(st.i64(6));
    if (!st.is_null(7)) v.probability = static_cast<float>(st.f64(7));
    v.model_version = st.text(8);
    v.rule_id = st.text(9);
    try {
      v.actions = actions_from_json(json::parse(st.text(10)));
    } catch (const std::exception& e) {
      throw StoreError("verdict log of " + path() + " has an unreadable row: " + e.what());
    }
    f(v);
  }
  txn.commit();
}

int64_t Store::verdict_count() {
  std::lock_guard lock(mu_);
  sql::Stmt st(*db_, "SELECT count(*) FROM verdicts");
  st.step();
  return st.i64(0);
}

void Store::add_feedback(const Feedback& fb) {
  std::lock_guard lock(mu_);
  sql::Stmt st(*db_,
               "INSERT INTO feedback (time, source, message_hash, label, user) "
               "VALUES (?, ?, ?, ?, ?)");
  st.bind(1, fb.time_ms).bind(2, source_name(fb.source)).bind(3, fb.message_hash);
  st.bind(4, label_name(fb.label)).bind(5, fb.user).run();
}

std::vector<Feedback> Store::feedback(int64_t since_ms) {
  std::lock_guard lock(mu_);
  std::vector<Feedback> out;
  sql::Stmt st(*db_,
               "SELECT time, source, message_hash, label, user FROM feedback WHERE time >= ? "
               "ORDER BY time, id");
  st.bind(1, since_ms);
  while (st.step()) {
    Feedback f;
    f.time_ms = st.i64(0);
    f.source = parse_source(st.text(1)).value_or(FeedbackSource::spamc);
    f.message_hash = st.text(2);
    f.label = parse_label(st.text(3)).value_or(Label::spam);
    f.user = st.text(4);
    out.push_back(f);
  }
  return out;
}

void create_database_at_version(const std::string& path, int version) {
  if (std::filesystem::exists(path)) throw StoreError(path + " exists already");
  if (version < 0 || version > latest_schema_version()) {
    throw StoreError("no schema version " + std::to_string(version));
  }
  sql::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  migrate(db, version);
}

}  // namespace sf::rules
