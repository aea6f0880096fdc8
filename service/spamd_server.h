// spamd_server.h: the spamd adapter: SPAMC/1.5 over TCP and Unix sockets,
// one request per connection, as SpamAssassin's spamd serves it.
//
// What it does: reads the request head (bounded by spamd.max_header_bytes)
// and the message (bounded by spamd.max_message_bytes), all within
// spamd.read_timeout_ms (else the connection is closed unanswered); runs CHECK, SYMBOLS, REPORT,
// REPORT_IFSPAM, PROCESS and HEADERS through the ScanEngine, answers PING, drops SKIP, stores TELL
// feedback (Message-class spam/ham with Set: local) through the
// FeedbackSink; writes the reply within spamd.write_timeout_ms and closes.
// Promises: malformed input gets the EX_* reply of spamd_protocol.h and a
// closed connection (after a bounded drain of what the peer still sends, so
// the reply is not lost to a reset); never a crash or a session that hangs
// past its timeouts.
// Failure: peer errors are answered and logged (event "protocol_error");
// a TELL the store cannot record is answered EX_UNAVAILABLE (no DidSet),
// so spamc -L reports the failure.
#pragma once

#include "service/serve_adapter.h"

namespace sf::service {

class SpamdAdapter final : public Adapter {
 public:
  explicit SpamdAdapter(DaemonContext& ctx) : ctx_(ctx) {}
  std::string name() const override { return "spamd"; }
  int max_connections() const override;
  asio::awaitable<void> serve(TcpStream stream, Peer peer) override;
  asio::awaitable<void> serve(LocalStream stream, Peer peer) override;
  asio::awaitable<void> refuse(TcpStream stream, Peer peer) override;
  asio::awaitable<void> refuse(LocalStream stream, Peer peer) override;

 private:
  template <typename Stream>
  asio::awaitable<void> session(Stream& stream, const Peer& peer);
  template <typename Stream>
  asio::awaitable<void> reply_and_close(Stream& stream, const std::string& reply, bool drain);

  DaemonContext& ctx_;
};

}  // namespace sf::service
