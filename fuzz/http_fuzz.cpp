// http_fuzz.cpp: libFuzzer target for the HTTP API's input handling: Beast's
// request parser with the daemon's limits, then the routing, query decoding,
// envelope and feedback parsing of service/http_api.h on what it accepted.
// Built and run for a bounded time by tests/fuzz_test.sh where clang is
// installed. Checks: no crash, no sanitizer report, no exception escapes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/http_api.h"
#include "service/net.h"

using namespace sf::service;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16384);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (!parser.is_header_done()) return 0;
  const auto& req = parser.get();
  RouteMatch m = route_request(std::string(req.method_string()), std::string(req.target()));
  HeaderLookup headers;
  for (const auto& f : req) headers[std::string(f.name_string())] = std::string(f.value());
  (void)envelope_from(m, headers);
  (void)check_auth(m, false, std::string(req[http::field::authorization]), "0123456789abcdef");
  (void)parse_feedback(m, std::string(req[http::field::content_type]), req.body());
  (void)parse_feedback(m, "application/json", req.body());
  return 0;
}
