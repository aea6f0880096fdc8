// spamd_server.cpp: see spamd_server.h.
#include "service/spamd_server.h"

#include <algorithm>

#include "service/serve_log.h"
#include "service/spamd_protocol.h"

namespace sf::service {
namespace {

constexpr size_t kDrainBytes = 64u << 20;
constexpr auto kDrainTime = std::chrono::seconds(2);

void protocol_error(DaemonContext& ctx, const Peer& peer, const SpamdError& e) {
  ctx.metrics.count_protocol_error("spamd");
  log_event(LogLevel::warn, "protocol_error",
            {{"interface", "spamd"},
             {"peer", peer.address},
             {"code", ex_name(e.code)},
             {"detail", printable(e.detail, 200)}});
}

}  // namespace

int SpamdAdapter::max_connections() const { return ctx_.config()->spamd.max_connections; }

asio::awaitable<void> SpamdAdapter::serve(TcpStream stream, Peer peer) {
  co_await session(stream, peer);
}

asio::awaitable<void> SpamdAdapter::serve(LocalStream stream, Peer peer) {
  co_await session(stream, peer);
}

asio::awaitable<void> SpamdAdapter::refuse(TcpStream stream, Peer) {
  {
    const std::string reply = spamd_error_reply({kExTempFail, "too many connections"});
    co_await reply_and_close(stream, reply, true);
  }
}

asio::awaitable<void> SpamdAdapter::refuse(LocalStream stream, Peer) {
  {
    const std::string reply = spamd_error_reply({kExTempFail, "too many connections"});
    co_await reply_and_close(stream, reply, true);
  }
}

template <typename Stream>
asio::awaitable<void> SpamdAdapter::reply_and_close(Stream& stream, const std::string& reply,
                                                    bool drain) {
  auto cfg = ctx_.config();
  beast::error_code ec;
  stream.expires_after(std::chrono::milliseconds(cfg->spamd.write_timeout_ms));
  if (!reply.empty())
    co_await asio::async_write(stream, asio::buffer(reply),
                               asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(asio::socket_base::shutdown_send, ec);
  if (drain) {
    // Read what the peer still sends (a message we refused), so that closing
    // with unread data does not reset the connection before it read the reply.
    stream.expires_after(kDrainTime);
    char buf[16384];
    size_t drained = 0;
    while (drained < kDrainBytes) {
      size_t n = co_await stream.async_read_some(asio::buffer(buf),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
  }
  stream.socket().close(ec);
}

template <typename Stream>
asio::awaitable<void> SpamdAdapter::session(Stream& stream, const Peer& peer) {
  const auto cfg = ctx_.config();
  const SpamdConfig& sc = cfg->spamd;
  beast::error_code ec;
  std::string buf;
  char tmp[16384];
  stream.expires_after(std::chrono::milliseconds(sc.read_timeout_ms));

  // The request head.
  size_t head_end = std::string::npos;
  for (;;) {
    head_end = spamd_head_end(buf);
    if (head_end == std::string::npos && spamd_is_old_ping(buf)) head_end = buf.find('\n') + 1;
    if (head_end != std::string::npos) break;
    if (buf.size() > static_cast<size_t>(sc.max_header_bytes)) break;
    size_t n = co_await stream.async_read_some(asio::buffer(tmp),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    buf.append(tmp, n);
  }
  if (head_end == std::string::npos || head_end > static_cast<size_t>(sc.max_header_bytes)) {
    if (ec == beast::error::timeout) {
      ctx_.metrics.count_limit("spamd.read_timeout_ms");
      log_limit("spamd.read_timeout_ms", {{"peer", peer.address}, {"stage", "head"}});
      // The stream closed the socket when the time ran out: nothing to answer.
      co_return;
    }
    if (ec && buf.empty()) {  // connected and left: a health check, or a client gone
      stream.socket().close(ec);
      co_return;
    }
    SpamdError e{kExProtocol, ec ? "connection closed before the end of the request head"
                                 : "request head over spamd.max_header_bytes"};
    if (!ec) {
      ctx_.metrics.count_limit("spamd.max_header_bytes");
      log_limit("spamd.max_header_bytes", {{"peer", peer.address}});
    }
    protocol_error(ctx_, peer, e);
    {
      const std::string reply = spamd_error_reply(e);
      co_await reply_and_close(stream, reply, !ec);
    }
    co_return;
  }

  SpamdLimits limits;
  limits.max_message_bytes = static_cast<uint64_t>(sc.max_message_bytes);
  auto parsed = parse_spamd_head(std::string_view(buf).substr(0, head_end), limits);
  if (auto* e = std::get_if<SpamdError>(&parsed)) {
    if (e->code == kExDataErr) {
      ctx_.metrics.count_limit("spamd.max_message_bytes");
      log_limit("spamd.max_message_bytes", {{"peer", peer.address}, {"detail", e->detail}});
    } else {
      protocol_error(ctx_, peer, *e);
    }
    {
      const std::string reply = spamd_error_reply(*e);
      co_await reply_and_close(stream, reply, true);
    }
    co_return;
  }
  SpamdRequest req = std::get<SpamdRequest>(std::move(parsed));
  if (req.command == SpamdCommand::ping) {
    {
      const std::string reply = spamd_pong_reply();
      co_await reply_and_close(stream, reply, false);
    }
    co_return;
  }
  if (req.command == SpamdCommand::skip) {
    stream.socket().close(ec);
    co_return;
  }

  // The message.
  const size_t need = static_cast<size_t>(req.content_length.value_or(0));
  std::string message = buf.substr(head_end);
  buf.clear();
  if (message.size() > need) message.resize(need);  // bytes after the message are ignored
  message.reserve(need);
  while (message.size() < need) {
    size_t want = std::min(sizeof tmp, need - message.size());
    size_t n = co_await stream.async_read_some(asio::buffer(tmp, want),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    message.append(tmp, n);
  }
  if (message.size() < need) {
    if (ec == beast::error::timeout) {
      ctx_.metrics.count_limit("spamd.read_timeout_ms");
      log_limit("spamd.read_timeout_ms", {{"peer", peer.address}, {"stage", "message"}});
      // The stream closed the socket when the time ran out: nothing to answer.
      co_return;
    }
    SpamdError e{kExProtocol, "message shorter than Content-length (" +
                                  std::to_string(message.size()) + " of " + std::to_string(need) +
                                  " bytes)"};
    protocol_error(ctx_, peer, e);
    {
      const std::string reply = spamd_error_reply(e);
      co_await reply_and_close(stream, reply, false);
    }
    co_return;
  }

  if (req.command == SpamdCommand::tell) {
    bool did_set = false;
    if (req.set_local) {
      if (!ctx_.feedback) {
        {
          const std::string reply =
              spamd_error_reply({kExUnavailable, "feedback store not configured"});
          co_await reply_and_close(stream, reply, false);
        }
        co_return;
      }
      FeedbackItem item;
      item.interface = "spamd";
      item.user = req.user;
      item.label = req.message_class;
      item.message = std::move(message);
      FeedbackSink* sink = ctx_.feedback;
      std::string failure;
      try {
        co_await asio::co_spawn(
            ctx_.engine.blocking_executor(),
            [sink, &item]() -> asio::awaitable<void> {
              sink->record(item);
              co_return;
            },
            asio::use_awaitable);
        did_set = true;
      } catch (const std::exception& ex) {
        failure = ex.what();
      }
      if (!did_set) {
        log_event(LogLevel::error, "feedback_failed",
                  {{"interface", "spamd"}, {"error", printable(failure, 300)}});
        {
          const std::string reply =
              spamd_error_reply({kExUnavailable, "feedback could not be stored"});
          co_await reply_and_close(stream, reply, false);
        }
        co_return;
      }
      log_event(LogLevel::info, "feedback",
                {{"interface", "spamd"},
                 {"label", req.message_class},
                 {"user", printable(req.user, 100)}});
    }
    if (req.remove_local || req.remove_remote || req.set_remote)
      log_event(LogLevel::info, "feedback_ignored",
                {{"interface", "spamd"},
                 {"detail", "Remove (forget) and remote databases are not supported"}});
    {
      const std::string reply = spamd_tell_reply(did_set, false);
      co_await reply_and_close(stream, reply, false);
    }
    co_return;
  }

  ScanRequest sr;
  sr.interface = "spamd";
  sr.message = message;
  sr.envelope.user = req.user;
  sr.envelope.client_ip = peer.ip;
  if (req.user.find('@') != std::string::npos) sr.envelope.recipients = {req.user};
  ScanResult result = co_await ctx_.engine.async_scan(std::move(sr), asio::use_awaitable);
  {
    const std::string reply = spamd_scan_reply(req, result, message);
    co_await reply_and_close(stream, reply, false);
  }
}

}  // namespace sf::service
