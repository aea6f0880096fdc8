// serve_listener.cpp: see serve_listener.h.
#include "service/serve_listener.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <stdexcept>

#include "service/serve_log.h"

namespace sf::service {

namespace {

// Open sessions per adapter (shared by all its listeners).
struct Counter {
  std::atomic<int> open{0};
};

std::shared_ptr<Counter> counter_for(Adapter* a) {
  static std::mutex mu;
  static std::map<Adapter*, std::weak_ptr<Counter>> counters;
  std::lock_guard<std::mutex> lock(mu);
  auto c = counters[a].lock();
  if (!c) {
    c = std::make_shared<Counter>();
    counters[a] = c;
  }
  return c;
}

// Counts a session from accept to the end of its coroutine.
struct SessionGuard {
  SessionGuard(std::shared_ptr<Counter> c, std::shared_ptr<std::atomic<size_t>> all, Metrics* m,
               std::string iface)
      : c_(std::move(c)), all_(std::move(all)), m_(m), iface_(std::move(iface)) {
    ++c_->open;
    ++*all_;
    if (m_) m_->connection_opened(iface_);
  }
  ~SessionGuard() {
    --c_->open;
    --*all_;
    if (m_) m_->connection_closed(iface_);
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  std::shared_ptr<Counter> c_;
  std::shared_ptr<std::atomic<size_t>> all_;
  Metrics* m_;
  std::string iface_;
};

}  // namespace

Peer tcp_peer(const tcp::socket& s) {
  Peer p;
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) {
    p.address = "unknown";
    return p;
  }
  p.ip = ep.address().to_string();
  p.address = (ep.address().is_v6() ? "[" + p.ip + "]" : p.ip) + ":" + std::to_string(ep.port());
  p.loopback = is_loopback(ep.address());
  return p;
}

bool is_loopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  return false;
}

asio::awaitable<void> Adapter::serve(LocalStream stream, Peer) {
  beast::error_code ec;
  stream.socket().close(ec);
  co_return;
}

asio::awaitable<void> Adapter::refuse(TcpStream stream, Peer) {
  beast::error_code ec;
  stream.socket().close(ec);
  co_return;
}

asio::awaitable<void> Adapter::refuse(LocalStream stream, Peer) {
  beast::error_code ec;
  stream.socket().close(ec);
  co_return;
}

struct Listeners::Entry {
  explicit Entry(asio::io_context& ioc) : strand(asio::make_strand(ioc)) {}
  asio::strand<asio::io_context::executor_type> strand;
  std::shared_ptr<Adapter> adapter;
  std::shared_ptr<Counter> counter;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::string address;
  std::string unix_path;
};

Listeners::Listeners(asio::io_context& ioc, Metrics* metrics)
    : ioc_(ioc), metrics_(metrics), active_(std::make_shared<std::atomic<size_t>>(0)) {}

Listeners::~Listeners() {
  for (auto& e : entries_) close_now(*e);
}

std::string Listeners::add_tcp(std::shared_ptr<Adapter> adapter, const std::string& host_port) {
  HostPort hp = parse_host_port(host_port, adapter->name() + ".listen");
  auto e = std::make_shared<Entry>(ioc_);
  e->adapter = adapter;
  e->counter = counter_for(adapter.get());
  try {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(hp.host, std::to_string(hp.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
    if (results.empty()) throw std::runtime_error("no address");
    tcp::endpoint ep = results.begin()->endpoint();
    e->tcp_acceptor = std::make_unique<tcp::acceptor>(e->strand);
    e->tcp_acceptor->open(ep.protocol());
    e->tcp_acceptor->set_option(asio::socket_base::reuse_address(true));
    e->tcp_acceptor->bind(ep);
    e->tcp_acceptor->listen(asio::socket_base::max_listen_connections);
    auto bound = e->tcp_acceptor->local_endpoint();
    std::string ip = bound.address().to_string();
    e->address =
        (bound.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(bound.port());
  } catch (const std::exception& ex) {
    throw std::runtime_error(adapter->name() + ".listen: cannot listen on " + host_port + ": " +
                             ex.what());
  }
  entries_.push_back(e);
  return e->address;
}

std::string Listeners::add_unix(std::shared_ptr<Adapter> adapter, const std::string& path,
                                int mode) {
  auto e = std::make_shared<Entry>(ioc_);
  e->adapter = adapter;
  e->counter = counter_for(adapter.get());
  std::error_code fec;
  auto st = std::filesystem::symlink_status(path, fec);
  if (!fec && std::filesystem::exists(st)) {
    if (st.type() != std::filesystem::file_type::socket)
      throw std::runtime_error(adapter->name() + ".socket: " + path +
                               " exists and is not a socket; not replacing it");
    std::filesystem::remove(path, fec);
  }
  try {
    e->unix_acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(e->strand);
    asio::local::stream_protocol::endpoint ep(path);
    e->unix_acceptor->open(ep.protocol());
    e->unix_acceptor->bind(ep);
    e->unix_acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& ex) {
    throw std::runtime_error(adapter->name() + ".socket: cannot listen on " + path + ": " +
                             ex.what());
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
    throw std::runtime_error(adapter->name() + ".socket: cannot chmod " + path);
  e->address = "unix:" + path;
  e->unix_path = path;
  entries_.push_back(e);
  return e->address;
}

namespace {

template <typename Acceptor, typename Stream, typename Socket, typename PeerFn>
asio::awaitable<void> accept_loop(asio::io_context& ioc, Acceptor& acceptor,
                                  std::shared_ptr<Adapter> adapter,
                                  std::shared_ptr<Counter> counter,
                                  std::shared_ptr<std::atomic<size_t>> active, Metrics* metrics,
                                  PeerFn peer_of) {
  for (;;) {
    beast::error_code ec;
    Socket sock(asio::make_strand(ioc));
    co_await acceptor.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      log_event(LogLevel::error, "accept_failed",
                {{"interface", adapter->name()}, {"error", ec.message()}});
      asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Peer peer = peer_of(sock);
    auto ex = sock.get_executor();
    const bool over = counter->open.load() >= adapter->max_connections();
    asio::co_spawn(
        ex,
        [adapter, counter, active, metrics, over, peer,
         s = std::move(sock)]() mutable -> asio::awaitable<void> {
          SessionGuard guard(counter, active, metrics, adapter->name());
          try {
            if (over) {
              log_limit(adapter->name() + ".max_connections", {{"peer", peer.address}});
              if (metrics) metrics->count_limit(adapter->name() + ".max_connections");
              Stream stream(std::move(s));
              co_await adapter->refuse(std::move(stream), peer);
            } else {
              Stream stream(std::move(s));
              co_await adapter->serve(std::move(stream), peer);
            }
          } catch (const std::exception& e) {
            log_event(
                LogLevel::error, "session_failed",
                {{"interface", adapter->name()}, {"peer", peer.address}, {"error", e.what()}});
          }
        },
        asio::detached);
  }
}

}  // namespace

void Listeners::start() {
  for (auto& e : entries_) {
    if (e->tcp_acceptor) {
      asio::co_spawn(e->strand,
                     accept_loop<tcp::acceptor, TcpStream, tcp::socket>(
                         ioc_, *e->tcp_acceptor, e->adapter, e->counter, active_, metrics_,
                         [](const tcp::socket& s) { return tcp_peer(s); }),
                     asio::detached);
    } else if (e->unix_acceptor) {
      asio::co_spawn(e->strand,
                     accept_loop<asio::local::stream_protocol::acceptor, LocalStream,
                                 asio::local::stream_protocol::socket>(
                         ioc_, *e->unix_acceptor, e->adapter, e->counter, active_, metrics_,
                         [](const asio::local::stream_protocol::socket&) {
                           Peer p;
                           p.address = "unix";
                           p.loopback = true;
                           return p;
                         }),
                     asio::detached);
    }
  }
}

void Listeners::close_now(Entry& e) {
  beast::error_code ec;
  if (e.tcp_acceptor && e.tcp_acceptor->is_open()) e.tcp_acceptor->close(ec);
  if (e.unix_acceptor && e.unix_acceptor->is_open()) {
    e.unix_acceptor->close(ec);
    std::error_code fec;
    std::filesystem::remove(e.unix_path, fec);
  }
}

void Listeners::close() {
  for (auto& e : entries_) asio::post(e->strand, [this, e] { close_now(*e); });
}

}  // namespace sf::service
