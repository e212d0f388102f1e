// The link over TCP: resolve, connect, then a read loop and a write queue.
#include "client/socket_link.hpp"

namespace chatgate::client {
namespace {

using asio::ip::tcp;

class tcp_link final : public socket_link<tcp, tcp_link> {
 public:
  using socket_link::socket_link;

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
    opened();
  }

  void do_read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void do_write() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_written(ec); });
  }

  std::string read_error(std::error_code ec) const {
    if (ec == asio::error::eof) return "the server closed the connection";
    return "connection to " + to_.describe() + " lost: " + ec.message();
  }

  std::string write_error(std::error_code ec) const {
    return "connection to " + to_.describe() + " lost: " + ec.message();
  }
};

}  // namespace

std::shared_ptr<link> make_tcp_link(asio::io_context& io, const target& to) {
  return std::make_shared<tcp_link>(io, to);
}

}  // namespace chatgate::client
