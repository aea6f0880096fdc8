// config.cpp: see config.h.
#include "service/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>

namespace sf::service {
namespace {

// Every known key: table -> keys. Anything else is refused.
const std::map<std::string, std::set<std::string>>& known_keys() {
  static const std::map<std::string, std::set<std::string>> k = {
      {"model", {"path", "cpu_threads", "batch_size"}},
      {"limits",
       {"max_input_bytes", "max_body_text_bytes", "max_parts", "max_depth", "max_header_bytes"}},
      {"server",
       {"io_threads", "prep_threads", "shutdown_timeout_ms", "log_level", "log_scans",
        "feedback_db", "rules_db"}},
      {"scheduler",
       {"max_batch", "max_wait_us", "queue_capacity", "deadline_ms", "failure_policy"}},
      {"verdict", {"spam_threshold", "suspect_threshold", "spam_folder", "suspect_keyword"}},
      {"spamd",
       {"listen", "socket", "socket_mode", "max_message_bytes", "max_header_bytes",
        "read_timeout_ms", "write_timeout_ms", "max_connections"}},
      {"http",
       {"listen", "token_file", "max_body_bytes", "max_header_bytes", "read_timeout_ms",
        "write_timeout_ms", "idle_timeout_ms", "max_connections"}},
      {"milter",
       {"listen", "socket", "socket_mode", "max_message_bytes", "max_command_bytes",
        "read_timeout_ms", "write_timeout_ms", "max_connections", "reject_text", "tempfail_text",
        "reject_threshold"}},
  };
  return k;
}

[[noreturn]] void fail(const std::string& origin, const std::string& key, const std::string& what) {
  throw ConfigError(origin + ": " + key + ": " + what);
}

template <typename T>
void read_int(const toml::table& t, const std::string& origin, const char* table, const char* key,
              T& out, long long lo, long long hi) {
  const toml::node* n = t[table][key].node();
  if (!n) return;
  std::string name = std::string(table) + "." + key;
  auto v = n->value<int64_t>();
  if (!n->is_integer() || !v) fail(origin, name, "must be an integer");
  if (*v < lo || *v > hi)
    fail(origin, name,
         std::to_string(*v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) +
             "]");
  out = static_cast<T>(*v);
}

void read_string(const toml::table& t, const std::string& origin, const char* table,
                 const char* key, std::string& out) {
  const toml::node* n = t[table][key].node();
  if (!n) return;
  if (!n->is_string()) fail(origin, std::string(table) + "." + key, "must be a string");
  out = *n->value<std::string>();
}

void read_choice(const toml::table& t, const std::string& origin, const char* table,
                 const char* key, std::string& out, std::initializer_list<const char*> allowed) {
  read_string(t, origin, table, key, out);
  std::string list;
  for (const char* a : allowed) {
    if (out == a) return;
    list += std::string(list.empty() ? "" : ", ") + "\"" + a + "\"";
  }
  fail(origin, std::string(table) + "." + key, "\"" + out + "\" is not one of " + list);
}

void read_bool(const toml::table& t, const std::string& origin, const char* table, const char* key,
               bool& out) {
  const toml::node* n = t[table][key].node();
  if (!n) return;
  if (!n->is_boolean()) fail(origin, std::string(table) + "." + key, "must be true or false");
  out = *n->value<bool>();
}

void read_double(const toml::table& t, const std::string& origin, const char* table,
                 const char* key, double& out, double lo, double hi) {
  const toml::node* n = t[table][key].node();
  if (!n) return;
  std::string name = std::string(table) + "." + key;
  if (!n->is_number()) fail(origin, name, "must be a number");
  double v = *n->value<double>();
  if (!(v >= lo && v <= hi))
    fail(
        origin, name,
        std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  out = v;
}

void read_listen(const toml::table& t, const std::string& origin, const char* table,
                 std::vector<std::string>& out) {
  const toml::node* n = t[table]["listen"].node();
  if (!n) return;
  std::string name = std::string(table) + ".listen";
  if (!n->is_array()) fail(origin, name, "must be an array of \"host:port\" strings");
  out.clear();
  for (const toml::node& e : *n->as_array()) {
    if (!e.is_string()) fail(origin, name, "must be an array of \"host:port\" strings");
    std::string v = *e.value<std::string>();
    parse_host_port(v, origin + ": " + name);
    out.push_back(v);
  }
}

}  // namespace

HostPort parse_host_port(const std::string& text, const std::string& key) {
  HostPort hp;
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw ConfigError(key + ": \"" + text + "\" is not host:port");
  hp.host = text.substr(0, colon);
  if (hp.host.front() == '[') {
    if (hp.host.size() < 3 || hp.host.back() != ']')
      throw ConfigError(key + ": \"" + text + "\" is not host:port");
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  } else if (hp.host.find(':') != std::string::npos) {
    throw ConfigError(key + ": \"" + text + "\": write IPv6 addresses as [addr]:port");
  }
  std::string port = text.substr(colon + 1);
  long v = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9' || v > 65535)
      throw ConfigError(key + ": \"" + text + "\": port must be a number in [0, 65535]");
    v = v * 10 + (ch - '0');
  }
  if (v > 65535) throw ConfigError(key + ": \"" + text + "\": port must be in [0, 65535]");
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

Config parse_config(const std::string& text, const std::string& origin) {
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::string where;
    if (e.source().begin) where = ":" + std::to_string(e.source().begin.line);
    throw ConfigError(origin + where + ": " + std::string(e.description()));
  }
  for (auto&& [k, v] : t) {
    std::string table(k.str());
    auto it = known_keys().find(table);
    if (it == known_keys().end()) fail(origin, table, "unknown table");
    if (!v.is_table()) fail(origin, table, "must be a table");
    for (auto&& [k2, v2] : *v.as_table()) {
      (void)v2;
      if (!it->second.count(std::string(k2.str())))
        fail(origin, table + "." + std::string(k2.str()), "unknown key");
    }
  }
  Config c;
  c.source = origin;
  if (const toml::node* n = t["model"]["path"].node()) {
    if (!n->is_string()) fail(origin, "model.path", "must be a string");
    c.model_path = *n->value<std::string>();
  }
  read_int(t, origin, "model", "cpu_threads", c.cpu_threads, 0, 1024);
  read_int(t, origin, "model", "batch_size", c.batch_size, 1, 4096);
  read_int(t, origin, "limits", "max_input_bytes", c.limits.max_input_bytes, 1024, 1LL << 30);
  read_int(t, origin, "limits", "max_body_text_bytes", c.limits.max_body_text_bytes, 256,
           64LL << 20);
  read_int(t, origin, "limits", "max_parts", c.limits.max_parts, 1, 100000);
  read_int(t, origin, "limits", "max_depth", c.limits.max_depth, 1, 100);
  read_int(t, origin, "limits", "max_header_bytes", c.limits.max_header_bytes, 256, 16LL << 20);

  ServerConfig& sv = c.server;
  read_int(t, origin, "server", "io_threads", sv.io_threads, 0, 256);
  read_int(t, origin, "server", "prep_threads", sv.prep_threads, 0, 256);
  read_int(t, origin, "server", "shutdown_timeout_ms", sv.shutdown_timeout_ms, 0, 3600000);
  read_choice(t, origin, "server", "log_level", sv.log_level, {"debug", "info", "warn", "error"});
  read_bool(t, origin, "server", "log_scans", sv.log_scans);
  read_string(t, origin, "server", "feedback_db", sv.feedback_db);
  read_string(t, origin, "server", "rules_db", sv.rules_db);

  SchedulerConfig& sc = c.scheduler;
  read_int(t, origin, "scheduler", "max_batch", sc.max_batch, 1, 4096);
  read_int(t, origin, "scheduler", "max_wait_us", sc.max_wait_us, 0, 10000000);
  read_int(t, origin, "scheduler", "queue_capacity", sc.queue_capacity, 1, 1000000);
  read_int(t, origin, "scheduler", "deadline_ms", sc.deadline_ms, 1, 3600000);
  read_choice(t, origin, "scheduler", "failure_policy", sc.failure_policy, {"open", "closed"});

  VerdictConfig& vc = c.verdict;
  read_double(t, origin, "verdict", "spam_threshold", vc.spam_threshold, 0.0, 1.0);
  read_double(t, origin, "verdict", "suspect_threshold", vc.suspect_threshold, 0.0, 1.0);
  if (vc.suspect_threshold > vc.spam_threshold)
    fail(origin, "verdict.suspect_threshold", "must not be above verdict.spam_threshold");
  read_string(t, origin, "verdict", "spam_folder", vc.spam_folder);
  read_string(t, origin, "verdict", "suspect_keyword", vc.suspect_keyword);

  SpamdConfig& sd = c.spamd;
  read_listen(t, origin, "spamd", sd.listen);
  read_string(t, origin, "spamd", "socket", sd.socket);
  if (t["spamd"]["socket_mode"].node()) {
    std::string mode;
    read_string(t, origin, "spamd", "socket_mode", mode);
    if (mode.empty() || mode.size() > 4 || mode.find_first_not_of("01234567") != std::string::npos)
      fail(origin, "spamd.socket_mode", "must be an octal string such as \"0660\"");
    sd.socket_mode = std::stoi(mode, nullptr, 8);
  }
  read_int(t, origin, "spamd", "max_message_bytes", sd.max_message_bytes, 1024, 1LL << 30);
  read_int(t, origin, "spamd", "max_header_bytes", sd.max_header_bytes, 256, 1 << 20);
  read_int(t, origin, "spamd", "read_timeout_ms", sd.read_timeout_ms, 1, 3600000);
  read_int(t, origin, "spamd", "write_timeout_ms", sd.write_timeout_ms, 1, 3600000);
  read_int(t, origin, "spamd", "max_connections", sd.max_connections, 1, 1000000);

  HttpConfig& hc = c.http;
  read_listen(t, origin, "http", hc.listen);
  read_string(t, origin, "http", "token_file", hc.token_file);
  read_int(t, origin, "http", "max_body_bytes", hc.max_body_bytes, 1024, 1LL << 30);
  read_int(t, origin, "http", "max_header_bytes", hc.max_header_bytes, 256, 1 << 20);
  read_int(t, origin, "http", "read_timeout_ms", hc.read_timeout_ms, 1, 3600000);
  read_int(t, origin, "http", "write_timeout_ms", hc.write_timeout_ms, 1, 3600000);
  read_int(t, origin, "http", "idle_timeout_ms", hc.idle_timeout_ms, 1, 3600000);
  read_int(t, origin, "http", "max_connections", hc.max_connections, 1, 1000000);

  MilterConfig& mc = c.milter;
  if (const toml::node* n = t["milter"]["listen"].node()) {
    const std::string name = "milter.listen";
    if (!n->is_array()) fail(origin, name, "must be an array of \"host:port\" strings");
    mc.listen.clear();
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) fail(origin, name, "must be an array of \"host:port\" strings");
      std::string v = *e.value<std::string>();
      if (v.rfind("inet:", 0) == 0) v = v.substr(5);  // Postfix's spelling
      parse_host_port(v, origin + ": " + name);
      mc.listen.push_back(v);
    }
  }
  read_string(t, origin, "milter", "socket", mc.socket);
  if (mc.socket.rfind("unix:", 0) == 0) mc.socket = mc.socket.substr(5);
  if (t["milter"]["socket_mode"].node()) {
    std::string mode;
    read_string(t, origin, "milter", "socket_mode", mode);
    char* end = nullptr;
    long m = std::strtol(mode.c_str(), &end, 8);
    if (mode.empty() || *end || m < 0 || m > 0777)
      fail(origin, "milter.socket_mode", "must be an octal string such as \"0660\"");
    mc.socket_mode = static_cast<int>(m);
  }
  read_int(t, origin, "milter", "max_message_bytes", mc.max_message_bytes, 1024, 1LL << 30);
  read_int(t, origin, "milter", "max_command_bytes", mc.max_command_bytes, 65536 + 16, 64 << 20);
  read_int(t, origin, "milter", "read_timeout_ms", mc.read_timeout_ms, 1, 3600000);
  read_int(t, origin, "milter", "write_timeout_ms", mc.write_timeout_ms, 1, 3600000);
  read_int(t, origin, "milter", "max_connections", mc.max_connections, 1, 1000000);
  read_string(t, origin, "milter", "reject_text", mc.reject_text);
  read_string(t, origin, "milter", "tempfail_text", mc.tempfail_text);
  for (const auto* txt : {&mc.reject_text, &mc.tempfail_text}) {
    for (char ch : *txt) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
        fail(origin, txt == &mc.reject_text ? "milter.reject_text" : "milter.tempfail_text",
             "must be one line of printable text");
    }
    if (txt->size() > 400)
      fail(origin, txt == &mc.reject_text ? "milter.reject_text" : "milter.tempfail_text",
           "longer than 400 characters");
  }
  read_double(t, origin, "milter", "reject_threshold", mc.reject_threshold, 0.0, 1.0);
  return c;
}

Config load_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw ConfigError(path + ": config file not found or not a regular file");
  toml::table t;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw ConfigError(path + ": cannot open config file");
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > (4u << 20)) {
      std::fclose(f);
      throw ConfigError(path + ": config file larger than 4 MiB");
    }
  }
  std::fclose(f);
  return parse_config(text, path);
}

Config resolve_config(const std::string& cli_path) {
  if (!cli_path.empty()) return load_config(cli_path);
  if (const char* env = std::getenv("SPAMFORMER_CONFIG"); env && *env) return load_config(env);
  const char* system = "/etc/spamformer/spamformer.toml";
  std::error_code ec;
  if (std::filesystem::exists(system, ec)) return load_config(system);
  return Config{};
}

std::string default_model_path() {
  if (const char* env = std::getenv("SPAMFORMER_MODEL"); env && *env) return env;
  std::string cache;
  if (const char* c = std::getenv("SPAMFORMER_CACHE"); c && *c) {
    cache = c;
  } else {
    const char* home = std::getenv("HOME");
    cache = std::string(home && *home ? home : ".") + "/.cache/spamformer";
  }
  return cache + "/spamformer-base.safetensors";
}

std::string default_state_dir() {
  if (const char* env = std::getenv("SPAMFORMER_STATE_DIR"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/spamformer";
}

}  // namespace sf::service
