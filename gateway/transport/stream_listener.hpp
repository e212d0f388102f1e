// One listener for every chat protocol on a TCP stream (TCP chat, IRC),
// plain or over TLS: accepts, backs off when accept fails, turns a
// connection away when the hub is full, and does the TLS handshake before
// the session starts. What differs between protocols is `Protocol`, a
// struct of compile-time facts (see tcp_server.hpp, irc_server.hpp):
//   using session = ...;        made from (socket, ctx), or (tls stream, keep, ctx)
//   listener_names plain, tls;  in logs and start-up errors
//   tls_listener tls_kind;      counts its failed handshakes in /metrics
//   std::string_view server_full;  the one line a turned-away connection gets
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <asio.hpp>

#include "gateway/transport/accept_backoff.hpp"
#include "gateway/transport/sockets.hpp"
#include "gateway/transport/stream_session.hpp"
#include "gateway/transport/tls_context.hpp"

namespace chatgate {

// "tcp chat" and "--tcp-port": the listener's name in logs, and with its
// flag in a start-up error ("tcp chat (--tcp-port): cannot listen on ...").
struct listener_names {
  const char* name;
  const char* flag;
};

template <class Protocol>
class stream_listener {
 public:
  // With `tls`, every connection does a TLS handshake first (Protocol::tls.flag).
  stream_listener(asio::io_context& io, const config& cfg, hub& h, metrics& m, backpressure& bp,
                  const asio::ip::tcp::endpoint& at, tls_context* tls = nullptr)
      : acceptor_(io), backoff_(io.get_executor(), names(tls).name), ctx_{cfg, h, m, bp}, tls_(tls) {
    open_listener(acceptor_, at, std::string(names(tls).name) + " (" + names(tls).flag + ")");
  }

  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start() { do_accept(); }
  void stop() {  // stops accepting; sessions are closed through the hub
    std::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  }

 private:
  using session = typename Protocol::session;

  static const listener_names& names(const tls_context* tls) { return tls ? Protocol::tls : Protocol::plain; }

  void do_accept() {
    acceptor_.async_accept(
        [this](std::error_code ec, asio::ip::tcp::socket socket) { on_accept(ec, std::move(socket)); });
  }
  void on_accept(std::error_code ec, asio::ip::tcp::socket socket);

  // Said once, without waiting for the client to read (plain text even on a
  // TLS port: no handshake is spent on a connection that cannot stay).
  void turn_away(asio::ip::tcp::socket socket) {
    ctx_.stats.count_drop(drop_reason::server_full);
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(Protocol::server_full), ignored);
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
  }

  asio::ip::tcp::acceptor acceptor_;
  accept_backoff backoff_;
  session_context ctx_;
  tls_context* tls_;
};

// Out of the class (not inline): it makes sessions, so it is compiled only
// where the session type is complete (tcp_server.cpp, irc_server.cpp).
template <class Protocol>
void stream_listener<Protocol>::on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) return backoff_.retry(ec, [this] { do_accept(); });
  if (ctx_.chat.full()) {
    turn_away(std::move(socket));
  } else if (tls_) {
    accept_tls(*tls_, std::move(socket), ctx_.stats, Protocol::tls_kind,
               [this](std::unique_ptr<tls_stream> stream, tls_context_ptr keep) {
                 std::make_shared<session>(std::move(stream), std::move(keep), ctx_)->start();
               });
  } else {
    std::make_shared<session>(std::move(socket), ctx_)->start();
  }
  do_accept();
}

}  // namespace chatgate
