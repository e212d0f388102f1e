// The link over UDP: a connected socket, so only the server's datagrams
// arrive and a missing server shows up as "connection refused".
#include <deque>

#include <asio.hpp>

#include "client/link.hpp"

namespace chatgate::client {
namespace {

using asio::ip::udp;

class udp_link final : public link, public std::enable_shared_from_this<udp_link> {
 public:
  udp_link(asio::io_context& io, target to) : resolver_(io), socket_(io), to_(std::move(to)) {}

  void start(callbacks cb) override {
    cb_ = std::move(cb);
    resolver_.async_resolve(to_.host, to_.port,
                            [self = shared_from_this()](std::error_code ec, udp::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

  // An empty datagram is sent too: it is how a UDP peer says hello.
  void send(std::string data) override {
    if (closed_) return;
    queue_.push_back(std::move(data));
    if (queue_.size() == 1 && open_) do_send();
  }

  void close() override {
    if (closed_) return;
    end();
    asio::post(socket_.get_executor(), [cb = cb_] { cb.on_close({}); });
  }

 private:
  void on_resolve(std::error_code ec, const udp::resolver::results_type& results) {
    if (closed_) return;
    if (ec || results.empty()) return fail("cannot resolve " + to_.host + ": " + ec.message());
    const udp::endpoint server = results.begin()->endpoint();
    socket_.open(server.protocol(), ec);
    if (!ec) socket_.connect(server, ec);
    if (ec) return fail("cannot reach " + to_.describe() + ": " + ec.message());
    open_ = true;
    if (!queue_.empty()) do_send();
    cb_.on_open();
    if (!closed_) do_receive();
  }

  void do_receive() {
    socket_.async_receive(asio::buffer(buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_receive(ec, n);
    });
  }

  void on_receive(std::error_code ec, std::size_t n) {
    if (closed_) return;
    if (ec == asio::error::connection_refused)
      return fail("cannot connect to " + to_.describe() + ": nothing listens there (" + ec.message() + ")");
    if (ec) return fail("connection to " + to_.describe() + " lost: " + ec.message());
    cb_.on_data(std::string_view(buffer_.data(), n));
    if (!closed_) do_receive();
  }

  void do_send() {
    socket_.async_send(asio::buffer(queue_.front()),
                       [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_send(ec); });
  }

  void on_send(std::error_code ec) {
    if (closed_) return;
    if (ec == asio::error::connection_refused)
      return fail("cannot connect to " + to_.describe() + ": nothing listens there (" + ec.message() + ")");
    if (ec) return fail("cannot send to " + to_.describe() + ": " + ec.message());
    queue_.pop_front();
    if (!queue_.empty()) do_send();
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

  udp::resolver resolver_;
  udp::socket socket_;
  target to_;
  callbacks cb_;
  std::array<char, 65536> buffer_{};
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<link> make_udp_link(asio::io_context& io, const target& to) {
  return std::make_shared<udp_link>(io, to);
}

}  // namespace chatgate::client
