#include "gateway/transport/echo_server.hpp"

#include <memory>

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"

namespace chatgate {
namespace {

// Distinct datagrams remembered a second; beyond, new ones are not echoed
// until the next second (a loop could hide among them otherwise).
constexpr std::size_t max_remembered = 65536;

}  // namespace

// One TCP echo connection: read a chunk, write it back, then read again.
class echo_session : public std::enable_shared_from_this<echo_session> {
 public:
  echo_session(asio::ip::tcp::socket socket, echo_server& server)
      : socket_(std::move(socket)),
        server_(server),
        metrics_(server.metrics_),
        limit_(server.cfg_.burst, rate_limiter::clock::now()),
        buffer_(std::min<std::size_t>(server.cfg_.max_message_bytes, 16 * 1024), '\0') {
    from_ = peer_text(socket_);
  }

  void start() {
    ++metrics_.clients[metrics::at(protocol::via::echo)];
    spdlog::info("echo tcp {} connected", from_);
    do_read();
  }

  // Runs after the io_context stops, when the server may be gone: only
  // metrics (which outlives the loop) may be touched here.
  ~echo_session() {
    --metrics_.clients[metrics::at(protocol::via::echo)];
    spdlog::info("echo tcp {} disconnected", from_);
  }

 private:
  void do_read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](std::error_code ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(std::error_code ec, std::size_t n) {
    if (ec || server_.stopped_) return;
    ++server_.metrics_.received[metrics::at(protocol::via::echo)];
    server_.post(from_, limit_, std::string_view(buffer_.data(), n));
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        if (!ec) self->do_read();
                      });
  }

  asio::ip::tcp::socket socket_;
  echo_server& server_;
  metrics& metrics_;
  rate_limiter limit_;
  std::string buffer_;
  std::string from_;
};

echo_server::echo_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                         const asio::ip::tcp::endpoint& tcp_at)
    : acceptor_(io),
      backoff_(io.get_executor(), "echo"),
      udp_(io),
      cfg_(cfg),
      hub_(h),
      metrics_(m),
      datagram_(65536, '\0'),
      udp_limit_(cfg.burst, rate_limiter::clock::now()),
      recent_(max_remembered, std::chrono::seconds(1)) {
  // UDP echo shares the TCP echo port number (SPEC 1), even when it was 0.
  // With port 0 the kernel picks the TCP port without looking at UDP, so
  // another process may hold the UDP twin: pick again a few times before
  // calling it a start-up error.
  const int tries = tcp_at.port() == 0 ? 32 : 1;
  for (int attempt = 1;; ++attempt) {
    open_listener(acceptor_, tcp_at, "echo tcp (--echo-port)");
    const asio::ip::udp::endpoint udp_at(tcp_at.address(), acceptor_.local_endpoint().port());
    try {
      open_datagram(udp_, udp_at, "echo udp (--echo-port)");
      break;
    } catch (const startup_error&) {
      if (attempt == tries) throw;
      std::error_code ignored;
      udp_.close(ignored);
      acceptor_.close(ignored);
    }
  }
  own_ports_.insert(udp_.local_endpoint().port());
}

void echo_server::start() {
  do_accept();
  do_receive();
}

void echo_server::stop() {
  stopped_ = true;
  std::error_code ignored;
  acceptor_.close(ignored);
  udp_.close(ignored);
  backoff_.cancel();
}

void echo_server::do_accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    if (ec) return backoff_.retry(ec, [this] { do_accept(); });
    if (metrics_.clients[metrics::at(protocol::via::echo)] >= cfg_.max_clients)
      metrics_.count_drop(drop_reason::server_full);
    else
      std::make_shared<echo_session>(std::move(socket), *this)->start();
    do_accept();
  });
}

void echo_server::do_receive() {
  udp_.async_receive_from(asio::buffer(datagram_), sender_,
                          [this](std::error_code ec, std::size_t n) { on_receive(ec, n); });
}

void echo_server::on_receive(std::error_code ec, std::size_t n) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (!ec) on_datagram(std::string_view(datagram_.data(), n));
  do_receive();
}

void echo_server::on_datagram(std::string_view data) {
  ++metrics_.received[metrics::at(protocol::via::echo)];
  ++metrics_.udp_datagrams[1][0];
  // Echoing a service port (echo 7, chargen 19...) or our own chat port
  // would start a loop (SPEC 9).
  if (sender_.port() < 1024) return metrics_.count_udp_drop(udp_drop::low_port);
  if (own_ports_.count(sender_.port())) return metrics_.count_udp_drop(udp_drop::own_port);
  // The same bytes from the same source again and again within a second:
  // another echo (or our chat's twin) bouncing them back. A real client
  // changes its payloads or slows down.
  const auto now = datagram_memory::clock::now();
  const std::uint64_t key = hash_(sender_, data);
  if (recent_.count(key, now) >= max_repeats) return metrics_.count_udp_drop(udp_drop::echo_repeat);
  if (!recent_.record(key, now)) return metrics_.count_udp_drop(udp_drop::echo_busy);
  std::error_code send_ec;
  udp_.send_to(asio::buffer(data.data(), data.size()), sender_, 0, send_ec);
  if (send_ec) ++metrics_.udp_send_drops;
  else ++metrics_.udp_datagrams[1][1];
  post(to_text(sender_), udp_limit_, data);
}

void echo_server::post(const std::string& from, rate_limiter& limit, std::string_view chunk) {
  // Echo itself is never limited; only what reaches the room is: each line
  // of the chunk is a message of its own (SPEC 9) and takes one token.
  while (!chunk.empty()) {
    const std::size_t nl = chunk.find('\n');
    std::string_view line = chunk.substr(0, nl);
    chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!limit.allow(cfg_.rate, cfg_.burst, rate_limiter::clock::now())) return;
    hub_.post_echo(from, line);
  }
}

}  // namespace chatgate
