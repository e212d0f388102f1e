// The link over TCP: resolve, connect, then a read loop and a write queue;
// with --tls, a TLS handshake first and every byte through OpenSSL.
#include <asio/ssl.hpp>

#include "client/socket_link.hpp"
#include "client/tls.hpp"

namespace chatgate::client {
namespace {

using asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket&>;

class tcp_link final : public socket_link<tcp, tcp_link> {
 public:
  // `tls` is the context for --tls, nullptr for plain TCP.
  tcp_link(asio::io_context& io, target to, tls_context_ptr tls) : socket_link(io, std::move(to)), tls_ctx_(std::move(tls)) {
    if (tls_ctx_) tls_ = std::make_unique<tls_stream>(socket_, *tls_ctx_);
  }

  void send(std::string data) override {
    if (!data.empty()) enqueue(std::move(data));
  }

 private:
  friend class socket_link<tcp, tcp_link>;

  void on_resolve(std::error_code ec, tcp::resolver::results_type results) {
    if (closed_) return;
    if (ec) return fail("cannot resolve " + to_.host + ": " + ec.message());
    asio::async_connect(socket_, results, [self = shared_from_this()](std::error_code ec, const tcp::endpoint&) {
      self->on_connect(ec);
    });
  }

  void on_connect(std::error_code ec) {
    if (closed_) return;
    if (ec) return fail("cannot connect to " + to_.describe() + ": " + ec.message());
    socket_.set_option(tcp::no_delay(true), ec);
    if (!tls_) return opened();
    prepare_tls(tls_->native_handle(), to_);
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](std::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(std::error_code ec) {
    if (closed_) return;
    if (ec) return fail(describe_tls_failure(tls_->native_handle(), to_, handshake_error(ec)));
    opened();
  }

  void do_read() {
    auto on_read = [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); };
    if (tls_)
      tls_->async_read_some(asio::buffer(buffer_), std::move(on_read));
    else
      socket_.async_read_some(asio::buffer(buffer_), std::move(on_read));
  }

  void do_write() {
    auto on_written = [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_written(ec); };
    if (tls_)
      asio::async_write(*tls_, asio::buffer(queue_.front()), std::move(on_written));
    else
      asio::async_write(socket_, asio::buffer(queue_.front()), std::move(on_written));
  }

  // A server that is not speaking TLS, or that closed during the handshake.
  std::string handshake_error(std::error_code ec) const {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
      return "the server closed the connection during the handshake (is " + to_.port + " a TLS port?)";
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER)
      return "the server does not speak TLS there (" + ec.message() + ")";
    return ec.message();
  }

  std::string read_error(std::error_code ec) const {
    // A TLS server that just closes (no close_notify) ends the same way.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "the server closed the connection";
    return "connection to " + to_.describe() + " lost: " + ec.message();
  }

  std::string write_error(std::error_code ec) const {
    return "connection to " + to_.describe() + " lost: " + ec.message();
  }

  tls_context_ptr tls_ctx_;
  std::unique_ptr<tls_stream> tls_;
};

}  // namespace

std::shared_ptr<link> make_tcp_link(asio::io_context& io, const target& to) {
  tls_context_ptr tls;
  if (to.tls) {
    std::string error;
    // Checked when the options were read; a failure here is reported on start.
    tls = make_tls_context(to, error);
    if (!tls) {
      // Trusting nothing: the handshake fails with the reason.
      tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      tls->set_verify_mode(asio::ssl::verify_peer);
    }
  }
  return std::make_shared<tcp_link>(io, to, std::move(tls));
}

}  // namespace chatgate::client
