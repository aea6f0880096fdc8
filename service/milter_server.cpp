// milter_server.cpp: see milter_server.h.
#include "service/milter_server.h"

#include "service/milter_protocol.h"
#include "service/serve_log.h"

namespace sf::service {

int MilterAdapter::max_connections() const { return ctx_.config()->milter.max_connections; }

asio::awaitable<void> MilterAdapter::serve(TcpStream stream, Peer peer) {
  co_await session(stream, peer);
}

asio::awaitable<void> MilterAdapter::serve(LocalStream stream, Peer peer) {
  co_await session(stream, peer);
}

template <typename Stream>
asio::awaitable<void> MilterAdapter::session(Stream& stream, const Peer& peer) {
  const auto cfg = ctx_.config();
  const MilterConfig& mc = cfg->milter;
  milter::Limits limits;
  limits.max_message_bytes = static_cast<size_t>(mc.max_message_bytes);
  limits.max_command_bytes = static_cast<size_t>(mc.max_command_bytes);
  milter::Policy policy{mc.reject_text, mc.tempfail_text, mc.reject_threshold};
  milter::Session ms(limits);
  beast::error_code ec;
  std::string buf;
  char tmp[16384];

  auto send = [&](const std::string& bytes) -> asio::awaitable<bool> {
    if (bytes.empty()) co_return true;
    stream.expires_after(std::chrono::milliseconds(mc.write_timeout_ms));
    co_await asio::async_write(stream, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  };

  for (;;) {
    std::optional<milter::Frame> frame;
    try {
      frame = milter::take_frame(buf, limits.max_command_bytes);
    } catch (const milter::MilterError& e) {
      ctx_.metrics.count_protocol_error("milter");
      log_event(LogLevel::warn, "protocol_error",
                {{"interface", "milter"}, {"peer", peer.address}, {"detail", e.detail}});
      break;
    }
    if (!frame) {
      stream.expires_after(std::chrono::milliseconds(mc.read_timeout_ms));
      size_t n = co_await stream.async_read_some(asio::buffer(tmp),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == beast::error::timeout) {
          ctx_.metrics.count_limit("milter.read_timeout_ms");
          log_limit("milter.read_timeout_ms", {{"peer", peer.address}});
          co_return;  // the stream closed the socket
        }
        break;  // the MTA went away
      }
      buf.append(tmp, n);
      continue;
    }
    milter::Step step;
    try {
      step = ms.on_frame(*frame);
    } catch (const milter::MilterError& e) {
      ctx_.metrics.count_protocol_error("milter");
      log_event(LogLevel::warn, "protocol_error",
                {{"interface", "milter"},
                 {"peer", peer.address},
                 {"command", milter::command_name(frame->cmd)},
                 {"detail", printable(e.detail, 200)}});
      break;
    }
    if (step.scan) {
      ScanRequest sr;
      sr.interface = "milter";
      sr.message = ms.message();
      sr.envelope = ms.envelope();
      if (sr.envelope.client_ip.empty()) sr.envelope.client_ip = peer.ip;
      if (auto it = ms.macros().find("i"); it != ms.macros().end())
        sr.id = printable(it->second, 64);
      ScanResult result;
      try {
        result = co_await ctx_.engine.async_scan(std::move(sr), asio::use_awaitable);
      } catch (const std::exception& e) {
        // Fail open: the message passes, marked unchecked.
        result = ScanResult{};
        result.verdict = Verdict::unchecked;
        result.reason = Unchecked::backend_error;
        log_event(LogLevel::error, "scan_failed",
                  {{"interface", "milter"}, {"error", printable(e.what(), 300)}});
      }
      std::string disposition;
      std::string reply = ms.finish(result, policy, &disposition);
      log_event(LogLevel::debug, "milter_verdict",
                {{"peer", peer.address},
                 {"id", result.id},
                 {"disposition", disposition},
                 {"verdict", std::string(verdict_name(result.verdict))}});
      if (!co_await send(reply)) break;
      continue;
    }
    if (!co_await send(step.reply)) break;
    if (step.close) break;
  }
  stream.socket().close(ec);
}

}  // namespace sf::service
