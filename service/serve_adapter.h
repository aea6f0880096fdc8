// serve_adapter.h: what a protocol adapter (spamd, HTTP, later milter, SMTP)
// implements to plug into `spamformer serve`, and what the daemon gives it.
//
// What it does: the daemon owns the listeners (TCP and Unix sockets), the
// connection limits and the graceful shutdown; an adapter only serves one
// accepted connection at a time as a coroutine on that connection's own
// strand, turning protocol events into a ScanRequest for the shared
// ScanEngine and the ScanResult back into protocol replies. Adding a protocol
// is one new adapter file plus one line where the daemon creates adapters
// (serve.cpp, make_adapters()).
// Promises: a session coroutine owns its stream; the daemon counts it from
// accept to return, so SIGTERM waits for it (up to shutdown_timeout_ms).
// Every adapter read has a timeout and a size limit from the config.
// Failure: an adapter never throws out of serve(); peer errors are answered
// in the protocol and logged.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "service/config.h"
#include "service/net.h"
#include "service/serve_engine.h"
#include "service/serve_metrics.h"

namespace sf::service {

using TcpStream = beast::tcp_stream;
using LocalStream = beast::basic_stream<asio::local::stream_protocol, asio::any_io_executor,
                                        beast::unlimited_rate_policy>;

struct Peer {
  std::string address;    // "127.0.0.1:53422", "unix"
  std::string ip;         // "127.0.0.1"; empty for Unix sockets
  bool loopback = false;  // loopback TCP peers and Unix-socket peers
};

// Where feedback (spamc TELL, POST /v1/feedback) goes. record() blocks (a
// database write): adapters call it through ScanEngine::run_blocking.
struct FeedbackItem {
  std::string interface;  // "spamd", "http"
  std::string user;
  std::string label;       // "spam" or "ham"
  std::string message;     // the raw message (only its Message-ID is kept)
  std::string message_id;  // when the client names the message instead of sending it
};
class FeedbackSink {
 public:
  virtual ~FeedbackSink() = default;
  // Throws std::exception when the feedback could not be stored.
  virtual void record(const FeedbackItem& item) = 0;
};

// What every adapter shares. The config is swapped whole on SIGHUP.
class DaemonContext {
 public:
  DaemonContext(ScanEngine& engine, Metrics& metrics, std::shared_ptr<const Config> config,
                FeedbackSink* feedback)
      : engine(engine), metrics(metrics), feedback(feedback), config_(std::move(config)) {}

  ScanEngine& engine;
  Metrics& metrics;
  FeedbackSink* feedback;  // may be null: feedback is refused

  std::shared_ptr<const Config> config() const {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }
  void set_config(std::shared_ptr<const Config> c) {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(c);
  }
  // Asks the daemon to re-read its config (the HTTP admin endpoint).
  std::function<void()> request_reload;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string name() const = 0;  // "spamd": metrics label, log field
  // Connections allowed at once over all of this adapter's listeners.
  virtual int max_connections() const = 0;
  virtual asio::awaitable<void> serve(TcpStream stream, Peer peer) = 0;
  // Unix sockets; the default closes the connection.
  virtual asio::awaitable<void> serve(LocalStream stream, Peer peer);
  // Called instead of serve() when max_connections are open: a short
  // protocol reply, then the connection is closed. The default just closes.
  virtual asio::awaitable<void> refuse(TcpStream stream, Peer peer);
  virtual asio::awaitable<void> refuse(LocalStream stream, Peer peer);
};

// The stream's peer, as the listener saw it.
Peer tcp_peer(const tcp::socket& s);
bool is_loopback(const asio::ip::address& a);

}  // namespace sf::service
