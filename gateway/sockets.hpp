// Small socket chores shared by the listeners.
#pragma once

#include <string>

#include <asio.hpp>

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

// Binds and listens; on "::" IPv4 clients are welcome too. Throws on failure.
inline void open_listener(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& at) {
  acceptor.open(at.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  if (at.protocol() == asio::ip::tcp::v6()) acceptor.set_option(asio::ip::v6_only(false));
  acceptor.bind(at);
  acceptor.listen();
}

// Binds a datagram socket that never blocks the loop: a datagram the
// kernel will not take is dropped by the caller. Throws on failure.
inline void open_datagram(asio::ip::udp::socket& socket, const asio::ip::udp::endpoint& at) {
  socket.open(at.protocol());
  if (at.protocol() == asio::ip::udp::v6()) socket.set_option(asio::ip::v6_only(false));
  socket.bind(at);
  socket.non_blocking(true);
}

}  // namespace chatgate
