#include "gateway/transport/irc_server.hpp"

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "gateway/transport/irc_session.hpp"

namespace chatgate {

irc_server::irc_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::tcp::endpoint& at, tls_context* tls)
    : acceptor_(io), backoff_(io.get_executor(), tls ? "irc over tls" : "irc"), ctx_{cfg, h, m, bp}, tls_(tls) {
  open_listener(acceptor_, at, tls ? "irc over tls (--irc-tls-port)" : "irc (--irc-port)");
}

void irc_server::stop() {
  std::error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

void irc_server::do_accept() {
  acceptor_.async_accept(
      [this](std::error_code ec, asio::ip::tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void irc_server::on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) return backoff_.retry(ec, [this] { do_accept(); });
  if (tls_ && !ctx_.chat.full()) {
    accept_tls(*tls_, std::move(socket), ctx_.stats, tls_listener::irc_tls, [this](std::unique_ptr<tls_stream> stream, tls_context_ptr keep) {
      std::make_shared<irc_session>(std::move(stream), std::move(keep), ctx_)->start();
    });
  } else if (ctx_.chat.full()) {
    ctx_.stats.count_drop(drop_reason::server_full);
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(std::string_view("ERROR :Closing link: server full\r\n")), ignored);
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
  } else {
    std::make_shared<irc_session>(std::move(socket), ctx_)->start();
  }
  do_accept();
}

}  // namespace chatgate
