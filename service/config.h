// config.h: the daemon's and the commands' configuration (TOML).
//
// What it does: reads config/spamformer.toml-style files into a Config with
// every value defaulted, checked and documented in config/spamformer.toml.
// Promises: a returned Config is valid; unknown keys and tables are refused
// (a typo must not silently leave a default in force).
// Failure: ConfigError names the file, the key and what is wrong; it is the
// operator's fault and is reported at start-up, before any mail is touched.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/mail.h"

namespace sf::service {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The daemon (`spamformer serve`); see config/spamformer.toml for every key.
struct ServerConfig {               // [server]
  int io_threads = 2;               // threads running the network I/O (0: all cores)
  int prep_threads = 0;             // threads extracting and tokenizing mail (0: all cores)
  int shutdown_timeout_ms = 30000;  // SIGTERM: time in-flight requests get to finish
  std::string log_level = "info";   // debug | info | warn | error
  bool log_scans = true;            // one log line per scanned message (never its content)
  std::string feedback_db;          // SQLite file for TELL / feedback; empty: default_state_dir()
  std::string rules_db;             // rule store (rules/); empty: the built-in default policy
};

struct SchedulerConfig {                // [scheduler]
  int max_batch = 32;                   // sequences per backend call
  int max_wait_us = 2000;               // a partial batch waits at most this long for company
  int queue_capacity = 1024;            // messages waiting for the backend; beyond: queue_full
  int deadline_ms = 5000;               // per message, from arrival to verdict; beyond: deadline
  std::string failure_policy = "open";  // "open": pass unchecked; "closed": tempfail
};

struct VerdictConfig {              // [verdict]: the default policy (used until a rules_db is set)
  double spam_threshold = 0.90;     // p >= this: spam
  double suspect_threshold = 0.50;  // suspect_threshold <= p < spam_threshold: suspect
  std::string spam_folder = "Junk";
  std::string suspect_keyword = "$Suspect";
};

struct SpamdConfig {  // [spamd]: SPAMC/1.5 (SpamAssassin's spamd protocol)
  std::vector<std::string> listen{"127.0.0.1:7830"};  // host:port; empty list: no TCP
  std::string socket;                                 // Unix socket path; empty: none
  int socket_mode = 0660;                             // permissions of the Unix socket
  int64_t max_message_bytes = 10 << 20;
  int max_header_bytes = 16384;  // request line + headers
  int read_timeout_ms = 30000;   // to receive one whole request
  int write_timeout_ms = 30000;  // to send one whole response
  int max_connections = 1024;    // at once, over all spamd listeners
};

struct HttpConfig {  // [http]: the JSON API (Boost.Beast)
  std::vector<std::string> listen{"127.0.0.1:7831"};
  std::string token_file;  // bearer token (first line); empty: loopback only, no admin
  int64_t max_body_bytes = 10 << 20;
  int max_header_bytes = 16384;
  int read_timeout_ms = 30000;  // to receive one whole request
  int write_timeout_ms = 30000;
  int idle_timeout_ms = 60000;  // keep-alive: wait for the next request
  int max_connections = 1024;
};

struct MilterConfig {               // [milter]: the Sendmail/Postfix milter protocol, version 6
  std::vector<std::string> listen;  // "host:port" or "inet:host:port"; empty (default): no TCP
  std::string socket;               // Unix socket path ("unix:" prefix allowed); empty: none
  int socket_mode = 0660;
  int64_t max_message_bytes = 10 << 20;  // headers + body kept for scoring; the rest is not scored
  int max_command_bytes = 1 << 20;       // one protocol command (a body chunk is <= 64 KiB)
  int read_timeout_ms = 300000;          // to receive the next command (Postfix: 300 s)
  int write_timeout_ms = 30000;          // to send one reply
  int max_connections = 1024;
  std::string reject_text = "Message rejected as spam";  // after "550 5.7.1 "
  std::string tempfail_text = "Try again later";         // after "451 4.7.1 "
  double reject_threshold = 0;  // > 0: reject (550) when p >= this, whatever the policy says
};

struct Config {
  std::string source = "(built-in defaults)";  // file the values came from
  // [model]
  std::string model_path;  // empty: default_model_path()
  int cpu_threads = 0;     // 0: all cores
  int batch_size = 16;     // sequences per backend call in batch commands
  // [limits]
  mail::Limits limits;
  ServerConfig server;
  SchedulerConfig scheduler;
  VerdictConfig verdict;
  SpamdConfig spamd;
  HttpConfig http;
  MilterConfig milter;
};

// Reads a TOML file. Throws ConfigError.
Config load_config(const std::string& path);
// Parses TOML text (tests; `origin` is used in messages). Throws ConfigError.
Config parse_config(const std::string& text, const std::string& origin);
// --config if given, else $SPAMFORMER_CONFIG, else /etc/spamformer/spamformer.toml
// if it exists, else built-in defaults.
Config resolve_config(const std::string& cli_path);
// The model file used when the config names none:
// $SPAMFORMER_MODEL, else ${SPAMFORMER_CACHE:-$HOME/.cache/spamformer}/spamformer-base.safetensors
std::string default_model_path();
// Where the daemon keeps its state (feedback database) when the config names
// no file: $SPAMFORMER_STATE_DIR, else $HOME/.local/state/spamformer.
std::string default_state_dir();
// Splits "host:port" / "[v6]:port". Throws ConfigError naming `key`.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
HostPort parse_host_port(const std::string& text, const std::string& key);

}  // namespace sf::service
