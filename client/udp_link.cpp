// The link over UDP: a connected socket, so only the server's datagrams
// arrive and a missing server shows up as "connection refused".
#include "client/socket_link.hpp"

namespace chatgate::client {
namespace {

using asio::ip::udp;

class udp_link final : public socket_link<udp, udp_link> {
 public:
  using socket_link::socket_link;

  // An empty datagram is sent too: it is how a UDP peer says hello.
  void send(std::string data) override { enqueue(std::move(data)); }

 private:
  friend class socket_link<udp, udp_link>;

  void on_resolve(std::error_code ec, const udp::resolver::results_type& results) {
    if (closed_) return;
    if (ec || results.empty()) return fail("cannot resolve " + to_.host + ": " + ec.message());
    const udp::endpoint server = results.begin()->endpoint();
    socket_.open(server.protocol(), ec);
    if (!ec) socket_.connect(server, ec);
    if (ec) return fail("cannot reach " + to_.describe() + ": " + ec.message());
    opened();
  }

  void do_read() {
    socket_.async_receive(asio::buffer(buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void do_write() {
    socket_.async_send(asio::buffer(queue_.front()),
                       [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_written(ec); });
  }

  std::string refused() const {
    return "cannot connect to " + to_.describe() + ": nothing listens there";
  }

  std::string read_error(std::error_code ec) const {
    if (ec == asio::error::connection_refused) return refused() + " (" + ec.message() + ")";
    return "connection to " + to_.describe() + " lost: " + ec.message();
  }

  std::string write_error(std::error_code ec) const {
    if (ec == asio::error::connection_refused) return refused() + " (" + ec.message() + ")";
    return "cannot send to " + to_.describe() + ": " + ec.message();
  }
};

}  // namespace

std::shared_ptr<link> make_udp_link(asio::io_context& io, const target& to) {
  return std::make_shared<udp_link>(io, to);
}

}  // namespace chatgate::client
