#include "gateway/transport/tcp_server.hpp"

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "gateway/transport/tcp_session.hpp"

namespace chatgate {
namespace {

constexpr std::chrono::seconds handshake_timeout{10};

}  // namespace

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
  // Each connection keeps the certificate it started with (SIGHUP reloads
  // only affect new ones).
  tls_context_ptr keep = tls_->current();
  auto stream = std::make_unique<tls_stream>(std::move(socket), *keep);
  auto& s = *stream;
  // A client that connects and never finishes the handshake is closed.
  struct deadline_state {
    asio::steady_timer timer;
    bool done = false;
  };
  auto deadline = std::make_shared<deadline_state>(deadline_state{asio::steady_timer(s.get_executor(), handshake_timeout)});
  deadline->timer.async_wait([&raw = s.next_layer(), deadline](std::error_code ec) {
    // Until `done` the stream lives in the pending handshake.
    if (ec || deadline->done) return;
    std::error_code ignored;
    raw.close(ignored);
  });
  s.async_handshake(asio::ssl::stream_base::server,
                    [this, stream = std::move(stream), keep = std::move(keep), deadline](std::error_code ec) mutable {
                      deadline->done = true;
                      deadline->timer.cancel();
                      if (ec) {
                        ctx_.stats.count_tls_failure(tls_listener::tls_tcp);
                        spdlog::debug("tls-tcp handshake failed: {}", ec.message());
                        return;
                      }
                      std::make_shared<tcp_session>(std::move(stream), std::move(keep), ctx_)->start();
                    });
}

}  // namespace chatgate
