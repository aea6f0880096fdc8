// serve_listener.h: the daemon's listening sockets (TCP and Unix) and the
// accept loops that hand each connection to its adapter.
//
// What it does: binds the configured addresses (port 0 takes a free port;
// bound_address() says which), accepts on the I/O pool, puts every connection
// on its own strand, enforces each adapter's max_connections (a connection
// over it gets the adapter's refuse() reply) and counts open sessions so that
// shutdown can wait for them.
// Promises: close() stops accepting at once and removes Unix socket files it
// created; sessions already open go on. active() is exact.
// Failure: add_*() throws std::runtime_error naming the address when it
// cannot be bound (in use, no permission: the operator's to fix). Accept
// errors (out of file descriptors) are logged and retried after a pause.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "service/net.h"
#include "service/serve_adapter.h"

namespace sf::service {

class Listeners {
 public:
  Listeners(asio::io_context& ioc, Metrics* metrics);
  ~Listeners();
  // Returns the bound address ("127.0.0.1:7830").
  std::string add_tcp(std::shared_ptr<Adapter> adapter, const std::string& host_port);
  // Replaces a stale socket file (not any other kind of file). Returns the path.
  std::string add_unix(std::shared_ptr<Adapter> adapter, const std::string& path, int mode);
  void start();
  // Thread-safe: posts the close to each acceptor's strand.
  void close();
  size_t active() const { return active_->load(); }

 private:
  struct Entry;
  void close_now(Entry& e);
  asio::io_context& ioc_;
  Metrics* metrics_;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::shared_ptr<std::atomic<size_t>> active_;
};

}  // namespace sf::service
