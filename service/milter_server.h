// milter_server.h: the milter adapter: Postfix's and Sendmail's content
// filter protocol (version 6) over TCP ("inet:host:port") and Unix sockets.
//
// What it does: runs one milter connection as a coroutine on its strand:
// reads commands (each within milter.read_timeout_ms and at most
// milter.max_command_bytes), answers them through milter::Session, and at the
// end of each message submits the message (headers as the MTA sent them, then
// the body, up to milter.max_message_bytes) with its envelope to the
// ScanEngine, then applies the decision: accept with the SpamAssassin-format
// X-Spam-* headers and X-Spamformer (incoming copies removed), reject
// (550 5.7.1, milter.reject_text), tempfail (451 4.7.1), discard, quarantine,
// tag the subject, add headers.
// Promises: fail-open: when scoring cannot finish the message is accepted
// with `X-Spam-Status: unchecked` (the engine's failure policy decides
// tempfail instead); never a crash or a session past its timeouts.
// Failure: a malformed command is logged (event "protocol_error") and the
// connection closed: the MTA then applies its milter_default_action.
#pragma once

#include "service/serve_adapter.h"

namespace sf::service {

class MilterAdapter final : public Adapter {
 public:
  explicit MilterAdapter(DaemonContext& ctx) : ctx_(ctx) {}
  std::string name() const override { return "milter"; }
  int max_connections() const override;
  asio::awaitable<void> serve(TcpStream stream, Peer peer) override;
  asio::awaitable<void> serve(LocalStream stream, Peer peer) override;

 private:
  template <typename Stream>
  asio::awaitable<void> session(Stream& stream, const Peer& peer);

  DaemonContext& ctx_;
};

}  // namespace sf::service
