// IRC (SPEC 14): chatgate's rooms as channels.
#pragma once

#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/transport/accept_backoff.hpp"
#include "gateway/transport/stream_session.hpp"

namespace chatgate {

class irc_server {
 public:
  // With `tls`, every connection does a TLS handshake first (--irc-tls-port).
  irc_server(asio::io_context& io, const config& cfg, hub& h, metrics& m, backpressure& bp,
             const asio::ip::tcp::endpoint& at, tls_context* tls = nullptr);

  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start() { do_accept(); }
  void stop();  // stops accepting; sessions are closed through the hub

 private:
  void do_accept();
  void on_accept(std::error_code ec, asio::ip::tcp::socket socket);

  asio::ip::tcp::acceptor acceptor_;
  accept_backoff backoff_;
  session_context ctx_;
  tls_context* tls_;
};

}  // namespace chatgate
