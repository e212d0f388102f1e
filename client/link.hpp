// A connection to the server, whatever carries it: TCP, UDP or WebSocket.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "client/options.hpp"

namespace chatgate::client {

class link {
 public:
  struct callbacks {
    std::function<void()> on_open;
    // TCP: bytes as they arrive; UDP: one datagram; WebSocket: one frame.
    std::function<void(std::string_view)> on_data;
    // Once, when the link is gone: `error` says why in words, empty when
    // close() ended it.
    std::function<void(const std::string& error)> on_close;
  };

  virtual ~link() = default;
  virtual void start(callbacks cb) = 0;
  // TCP: bytes; UDP: one datagram; WebSocket: one text frame.
  virtual void send(std::string data) = 0;
  // Ends the link (a WebSocket closes with 1000); on_close("") follows.
  virtual void close() = 0;
};

std::shared_ptr<link> make_tcp_link(asio::io_context& io, const target& to);
std::shared_ptr<link> make_udp_link(asio::io_context& io, const target& to);
std::shared_ptr<link> make_ws_link(asio::io_context& io, const target& to);

inline std::shared_ptr<link> make_link(asio::io_context& io, const target& to) {
  switch (to.kind) {
    case transport::udp: return make_udp_link(io, to);
    case transport::ws: return make_ws_link(io, to);
    case transport::tcp: break;
  }
  return make_tcp_link(io, to);
}

}  // namespace chatgate::client
