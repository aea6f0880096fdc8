// http_server.cpp: see http_server.h.
#include "service/http_server.h"

#include "service/http_admin.h"
#include "service/http_api.h"
#include "service/serve_log.h"

namespace sf::service {

namespace http = beast::http;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response to_response(const HttpReply& r, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "spamformer");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

HeaderLookup lower_headers(const Request& req) {
  HeaderLookup h;
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    h[name] = std::string(f.value());
  }
  return h;
}

}  // namespace

HttpAdapter::HttpAdapter(DaemonContext& ctx) : ctx_(ctx) { reload(*ctx.config()); }

void HttpAdapter::reload(const Config& c) {
  std::string t = c.http.token_file.empty() ? "" : read_token_file(c.http.token_file);
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(t);
}

std::string HttpAdapter::token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}

int HttpAdapter::max_connections() const { return ctx_.config()->http.max_connections; }

asio::awaitable<void> HttpAdapter::refuse(TcpStream stream, Peer) {
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  Response res = to_response(error_reply(503, "too many connections"), 11, false);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

asio::awaitable<void> HttpAdapter::serve(TcpStream stream, Peer peer) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  bool first_request = true;
  for (;;) {
    const auto cfg = ctx_.config();
    const HttpConfig& hc = cfg->http;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(hc.max_header_bytes));
    parser.body_limit(static_cast<std::uint64_t>(hc.max_body_bytes));
    stream.expires_after(
        std::chrono::milliseconds(first_request ? hc.read_timeout_ms : hc.idle_timeout_ms));
    first_request = false;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      stream.expires_after(std::chrono::milliseconds(hc.write_timeout_ms));
      co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      stream.expires_after(std::chrono::milliseconds(hc.read_timeout_ms));
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset)
        break;
      if (ec == beast::error::timeout) {
        if (buffer.size() > 0 || parser.got_some()) {
          ctx_.metrics.count_limit("http.read_timeout_ms");
          log_limit("http.read_timeout_ms", {{"peer", peer.address}});
        }
        break;
      }
      HttpReply r;
      if (ec == http::error::body_limit) {
        ctx_.metrics.count_limit("http.max_body_bytes");
        log_limit("http.max_body_bytes", {{"peer", peer.address}});
        r = error_reply(413, "request body over http.max_body_bytes");
      } else if (ec == http::error::header_limit) {
        ctx_.metrics.count_limit("http.max_header_bytes");
        log_limit("http.max_header_bytes", {{"peer", peer.address}});
        r = error_reply(431, "request head over http.max_header_bytes");
      } else {
        ctx_.metrics.count_protocol_error("http");
        log_event(LogLevel::warn, "protocol_error",
                  {{"interface", "http"}, {"peer", peer.address}, {"detail", ec.message()}});
        r = error_reply(400, "malformed request: " + ec.message());
      }
      Response res = to_response(r, 11, false);
      stream.expires_after(std::chrono::milliseconds(hc.write_timeout_ms));
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }

    Request req = parser.release();
    const bool keep_alive = req.keep_alive();
    RouteMatch m = route_request(std::string(req.method_string()), std::string(req.target()));
    HttpReply reply;
    if (auto denied =
            check_auth(m, peer.loopback, std::string(req[http::field::authorization]), token())) {
      reply = *denied;
    } else {
      switch (m.route) {
        case HttpRoute::healthz:
          reply = json_reply(200, {{"status", "ok"}});
          break;
        case HttpRoute::readyz:
          reply = ctx_.engine.ready() ? json_reply(200, {{"status", "ready"}})
                                      : json_reply(503, {{"status", "loading"}});
          break;
        case HttpRoute::metrics:
          reply.content_type = "text/plain; version=0.0.4";
          reply.body = ctx_.metrics.render();
          break;
        case HttpRoute::reload:
          if (ctx_.request_reload) {
            ctx_.request_reload();
            reply = json_reply(202, {{"reload", "requested"}});
          } else {
            reply = error_reply(503, "reload is not available");
          }
          break;
        case HttpRoute::scan:
        case HttpRoute::checkv2: {
          ScanRequest sr;
          sr.interface = "http";
          sr.envelope = envelope_from(m, lower_headers(req));
          if (sr.envelope.client_ip.empty()) sr.envelope.client_ip = peer.ip;
          sr.message = std::move(req.body());
          if (sr.message.empty()) {
            reply = error_reply(400, "the body must be the raw message");
            break;
          }
          ScanResult r = co_await ctx_.engine.async_scan(std::move(sr), asio::use_awaitable);
          reply = m.route == HttpRoute::scan ? scan_reply(r) : checkv2_reply(r);
          break;
        }
        case HttpRoute::feedback: {
          auto parsed = parse_feedback(m, std::string(req[http::field::content_type]), req.body());
          if (auto* err = std::get_if<HttpReply>(&parsed)) {
            reply = *err;
            break;
          }
          if (!ctx_.feedback) {
            reply = error_reply(503, "feedback store not configured");
            break;
          }
          const auto& f = std::get<FeedbackRequest>(parsed);
          FeedbackItem item;
          item.interface = "http";
          item.user = f.user;
          item.label = f.label;
          item.message_id = f.message_id;
          if (f.has_message) item.message = std::move(req.body());
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
          } catch (const std::exception& e) {
            failure = e.what();
          }
          if (failure.empty()) {
            log_event(
                LogLevel::info, "feedback",
                {{"interface", "http"}, {"label", f.label}, {"user", printable(f.user, 100)}});
            reply = json_reply(200, {{"stored", true}, {"label", f.label}});
          } else {
            log_event(LogLevel::error, "feedback_failed",
                      {{"interface", "http"}, {"error", printable(failure, 300)}});
            reply = error_reply(503, "feedback could not be stored");
          }
          break;
        }
        case HttpRoute::rules_admin: {
          AdminRequest ar{std::string(req.method_string()), std::string(req.target()),
                          std::move(req.body()), "http-admin"};
          const std::string db = cfg->server.rules_db;
          AdminResult result;
          co_await asio::co_spawn(
              ctx_.engine.blocking_executor(),
              [&]() -> asio::awaitable<void> {
                result = handle_rules_admin(db, ar);
                co_return;
              },
              asio::use_awaitable);
          if (result.changed)
            log_event(
                LogLevel::info, "rules_changed",
                {{"interface", "http"}, {"request", printable(ar.method + " " + ar.target, 200)}});
          reply = std::move(result.reply);
          break;
        }
        case HttpRoute::bad_method:
          reply = error_reply(405, "method not allowed");
          break;
        case HttpRoute::not_found:
          reply = error_reply(404, "no such endpoint");
          break;
      }
    }
    Response res = to_response(reply, req.version(), keep_alive);
    if (req.method() == http::verb::head) res.body().clear();
    stream.expires_after(std::chrono::milliseconds(hc.write_timeout_ms));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

}  // namespace sf::service
