#include "gateway/transport/tcp_server.hpp"

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "gateway/transport/tcp_session.hpp"

namespace chatgate {
tcp_server::tcp_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::tcp::endpoint& at, tls_context* tls)
    : acceptor_(io), backoff_(io.get_executor(), tls ? "tls tcp chat" : "tcp chat"), ctx_{cfg, h, m, bp}, tls_(tls) {
  open_listener(acceptor_, at, tls ? "tls tcp chat (--tls-tcp-port)" : "tcp chat (--tcp-port)");
}

void tcp_server::stop() {
  std::error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

void tcp_server::do_accept() {
  acceptor_.async_accept(
      [this](std::error_code ec, asio::ip::tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void tcp_server::on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) return backoff_.retry(ec, [this] { do_accept(); });
  if (tls_ && !ctx_.chat.full()) {
    do_handshake(std::move(socket));
  } else if (ctx_.chat.full()) {
    ctx_.stats.count_drop(drop_reason::server_full);
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(std::string_view("! server full\n")), ignored);
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
  } else {
    std::make_shared<tcp_session>(std::move(socket), ctx_)->start();
  }
  do_accept();
}

void tcp_server::do_handshake(asio::ip::tcp::socket socket) {
  accept_tls(*tls_, std::move(socket), ctx_.stats, tls_listener::tls_tcp, [this](std::unique_ptr<tls_stream> stream, tls_context_ptr keep) {
    std::make_shared<tcp_session>(std::move(stream), std::move(keep), ctx_)->start();
  });
}

}  // namespace chatgate
