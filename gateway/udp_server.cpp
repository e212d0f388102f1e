#include "gateway/udp_server.hpp"

#include <spdlog/spdlog.h>

#include "gateway/participant.hpp"
#include "gateway/sockets.hpp"
#include "protocol/line_framer.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

constexpr std::size_t command_slack = 64;  // as for TCP: `/me ` before the text
constexpr std::size_t max_datagram = 65536;

}  // namespace

// What the hub sees of one UDP peer: replies go out as datagrams, one per line.
class udp_server::peer final : public participant {
 public:
  peer(udp_server& server, asio::ip::udp::endpoint ep) : server_(server), ep_(std::move(ep)) {}

  void deliver(const shared_bytes& bytes) override {
    if (closed_) return;
    std::string_view rest = *bytes;
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      const std::size_t len = end == std::string_view::npos ? rest.size() : end + 1;
      server_.send_to(ep_, rest.substr(0, len));
      rest.remove_prefix(len);
    }
  }

  std::size_t queued_bytes() const override { return 0; }  // never queues
  void drop_slow() override {}

  void close() override {
    if (closed_) return;
    closed_ = true;
    server_.forget_later(ep_);
  }

  bool closed() const { return closed_; }

  client_id id = 0;
  std::chrono::steady_clock::time_point last_seen{};

 private:
  udp_server& server_;
  asio::ip::udp::endpoint ep_;
  bool closed_ = false;
};

udp_server::udp_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::udp::endpoint& at)
    : socket_(io), sweep_timer_(io), cfg_(cfg), hub_(h), metrics_(m), pressure_(bp), buffer_(max_datagram, '\0') {
  open_datagram(socket_, at, "udp chat (--udp-port)");
}

udp_server::~udp_server() = default;

void udp_server::start() {
  do_receive();
  do_sweep();
}

void udp_server::stop() {
  stopped_ = true;
  std::error_code ignored;
  sweep_timer_.cancel();
  // The hub has told every peer goodbye by now; let them go.
  for (auto& [ep, p] : peers_) hub_.disconnect(p->id);
  peers_.clear();
  socket_.close(ignored);
}

void udp_server::do_receive() {
  socket_.async_receive_from(asio::buffer(buffer_), sender_,
                             [this](std::error_code ec, std::size_t n) { on_receive(ec, n); });
}

void udp_server::on_receive(std::error_code ec, std::size_t n) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (!ec) {
    if (peer* p = find_or_admit(sender_)) {
      p->last_seen = std::chrono::steady_clock::now();
      const client_id id = p->id;
      // A final line without '\n' counts, so flush after feeding.
      protocol::line_framer framer(cfg_.max_message_bytes + command_slack);
      auto on_line = [&](std::string_view line) {
        if (auto request = protocol::parse_text_line(line)) hub_.handle(id, std::move(*request));
        return !p->closed();  // `/quit` ends the datagram too
      };
      auto on_too_long = [&] {
        hub_.handle(id, protocol::request{protocol::req::invalid{protocol::error_code::too_long,
                                                                 "message too long"},
                                          nullptr});
        return true;
      };
      framer.feed(std::string_view(buffer_.data(), n), on_line, on_too_long);
      framer.flush(on_line);
    }
  }
  do_receive();
}

udp_server::peer* udp_server::find_or_admit(const asio::ip::udp::endpoint& from) {
  auto it = peers_.find(from);
  if (it != peers_.end()) return it->second.get();
  if (hub_.full()) {
    metrics_.count_drop(drop_reason::server_full);
    send_to(from, "! server full\n");
    return nullptr;
  }
  auto owned = std::make_unique<peer>(*this, from);
  peer* p = owned.get();
  peers_.emplace(from, std::move(owned));
  p->id = hub_.connect(*p, protocol::via::udp, /*json=*/false);
  spdlog::info("udp {} connected (client {})", to_text(from), p->id);
  return p;
}

void udp_server::send_to(const asio::ip::udp::endpoint& to, std::string_view bytes) {
  std::error_code ec;
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  if (ec) ++metrics_.udp_send_drops;
}

void udp_server::forget_later(const asio::ip::udp::endpoint& who) {
  asio::post(socket_.get_executor(), [this, who] { forget(who); });
}

void udp_server::forget(const asio::ip::udp::endpoint& who) {
  auto it = peers_.find(who);
  if (it == peers_.end()) return;
  spdlog::info("udp {} disconnected (client {})", to_text(who), it->second->id);
  hub_.disconnect(it->second->id);
  peers_.erase(it);
}

void udp_server::do_sweep() {
  if (stopped_) return;
  const auto idle = std::chrono::seconds(cfg_.udp_idle_s);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto next = std::next(it);
    if (now - it->second->last_seen >= idle) {
      metrics_.count_drop(drop_reason::udp_idle);
      forget(it->first);
    }
    it = next;
  }
  // Check a few times per idle period, at least once a second.
  sweep_timer_.expires_after(std::min<std::chrono::milliseconds>(std::chrono::seconds(1), idle / 4));
  sweep_timer_.async_wait([this](std::error_code ec) {
    if (!ec) do_sweep();
  });
}

}  // namespace chatgate
