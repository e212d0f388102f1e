// The link over TCP: resolve, connect, then a read loop and a write queue.
#include <deque>

#include <asio.hpp>

#include "client/link.hpp"

namespace chatgate::client {
namespace {

using asio::ip::tcp;

class tcp_link final : public link, public std::enable_shared_from_this<tcp_link> {
 public:
  tcp_link(asio::io_context& io, target to) : resolver_(io), socket_(io), to_(std::move(to)) {}

  void start(callbacks cb) override {
    cb_ = std::move(cb);
    resolver_.async_resolve(to_.host, to_.port,
                            [self = shared_from_this()](std::error_code ec, tcp::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

  void send(std::string data) override {
    if (closed_ || data.empty()) return;
    queue_.push_back(std::move(data));
    if (queue_.size() == 1 && connected_) do_write();
  }

  void close() override {
    if (closed_) return;
    end();
    asio::post(socket_.get_executor(), [cb = cb_] { cb.on_close({}); });
  }

 private:
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
    connected_ = true;
    socket_.set_option(tcp::no_delay(true), ec);
    if (!queue_.empty()) do_write();
    cb_.on_open();
    if (!closed_) do_read();
  }

  void do_read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(std::error_code ec, std::size_t n) {
    if (closed_) return;
    if (ec == asio::error::eof) return fail("the server closed the connection");
    if (ec) return fail("connection to " + to_.describe() + " lost: " + ec.message());
    cb_.on_data(std::string_view(buffer_.data(), n));
    if (!closed_) do_read();
  }

  void do_write() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(std::error_code ec) {
    if (closed_) return;
    if (ec) return fail("connection to " + to_.describe() + " lost: " + ec.message());
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  void fail(const std::string& why) {
    end();
    cb_.on_close(why);
  }

  void end() {
    closed_ = true;
    std::error_code ignored;
    resolver_.cancel();
    // The queue stays: a write in flight still points into it.
    socket_.close(ignored);
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  target to_;
  callbacks cb_;
  std::array<char, 65536> buffer_{};
  std::deque<std::string> queue_;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<link> make_tcp_link(asio::io_context& io, const target& to) {
  return std::make_shared<tcp_link>(io, to);
}

}  // namespace chatgate::client
