// http_server.h: the HTTP adapter (Boost.Beast): HTTP/1.1 with keep-alive
// over TCP, the endpoints of http_api.h.
//
// What it does: reads each request within http.read_timeout_ms (waiting at
// most http.idle_timeout_ms for the next one on a kept-alive connection),
// with the head bounded by http.max_header_bytes and the body by
// http.max_body_bytes; checks the bearer token; scans through the
// ScanEngine; answers JSON or Prometheus text.
// Promises: a request over a limit gets 413/431 and the connection is
// closed; a malformed one gets 400 and is closed; never a crash or a
// connection held past its timeouts.
// Failure: http.token_file problems are ConfigErrors at start and on reload
// (a bad reload keeps the old token).
#pragma once

#include <mutex>
#include <string>

#include "service/serve_adapter.h"

namespace sf::service {

class HttpAdapter final : public Adapter {
 public:
  // Reads http.token_file now; throws ConfigError.
  explicit HttpAdapter(DaemonContext& ctx);
  std::string name() const override { return "http"; }
  int max_connections() const override;
  asio::awaitable<void> serve(TcpStream stream, Peer peer) override;
  asio::awaitable<void> refuse(TcpStream stream, Peer peer) override;
  // Re-reads the token file of `c`. Throws ConfigError (the old token stays).
  void reload(const Config& c);

 private:
  std::string token() const;
  DaemonContext& ctx_;
  mutable std::mutex mu_;
  std::string token_;
};

}  // namespace sf::service
