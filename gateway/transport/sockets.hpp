// Small socket chores shared by the listeners.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include <asio.hpp>

#include "gateway/ops/startup_error.hpp"

namespace chatgate {

// "1.2.3.4:5678" or "[::1]:5678".
template <class Endpoint>
std::string to_text(const Endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// The peer of a connected socket, or "?" once it is gone.
inline std::string peer_text(const asio::ip::tcp::socket& s) {
  std::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("?") : to_text(ep);
}

// "http+ws: cannot listen on 127.0.0.1:8080: Address already in use": what a
// listener that cannot be opened reports (SPEC 9, start-up errors).
template <class Endpoint>
[[noreturn]] void fail_to_listen(std::string_view listener, const Endpoint& at, const std::error_code& ec) {
  throw startup_error(std::string(listener) + ": cannot listen on " + to_text(at) + ": " + ec.message());
}

// Binds and listens; on "::" IPv4 clients are welcome too. Throws
// startup_error naming `listener` on failure.
inline void open_listener(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& at,
                          std::string_view listener) {
  std::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && at.protocol() == asio::ip::tcp::v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail_to_listen(listener, at, ec);
}

// Binds a datagram socket that never blocks the loop: a datagram the
// kernel will not take is dropped by the caller. Throws startup_error
// naming `listener` on failure.
inline void open_datagram(asio::ip::udp::socket& socket, const asio::ip::udp::endpoint& at,
                          std::string_view listener) {
  std::error_code ec;
  socket.open(at.protocol(), ec);
  if (!ec && at.protocol() == asio::ip::udp::v6()) socket.set_option(asio::ip::v6_only(false), ec);
  if (!ec) socket.bind(at, ec);
  if (!ec) socket.non_blocking(true, ec);
  if (ec) fail_to_listen(listener, at, ec);
}

}  // namespace chatgate
