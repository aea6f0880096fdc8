// net.h: the one place the daemon includes Boost.Asio and Boost.Beast from.
//
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; including it first here keeps every translation unit building
// whatever order clang-format gives the includes. Also names the aliases the
// daemon uses (sf::service::asio, sf::service::beast).
#pragma once

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

namespace sf::service {
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
}  // namespace sf::service
