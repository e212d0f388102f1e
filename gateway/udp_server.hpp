// UDP chat: each datagram holds text lines; a peer is its address and port
// and is forgotten after --udp-idle-s without a datagram (SPEC 3).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/backpressure.hpp"
#include "gateway/config.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"

namespace chatgate {

class udp_server {
 public:
  udp_server(asio::io_context& io, const config& cfg, hub& h, metrics& m, backpressure& bp,
             const asio::ip::udp::endpoint& at);
  ~udp_server();

  asio::ip::udp::endpoint local_endpoint() const { return socket_.local_endpoint(); }
  void start();
  void stop();

 private:
  class peer;
  friend class peer;

  void do_receive();
  void on_receive(std::error_code ec, std::size_t n);
  peer* find_or_admit(const asio::ip::udp::endpoint& from);
  void send_to(const asio::ip::udp::endpoint& to, std::string_view bytes);
  void forget_later(const asio::ip::udp::endpoint& who);
  void forget(const asio::ip::udp::endpoint& who);
  void do_sweep();

  asio::ip::udp::socket socket_;
  asio::steady_timer sweep_timer_;
  const config& cfg_;
  hub& hub_;
  metrics& metrics_;
  backpressure& pressure_;
  std::string buffer_;
  asio::ip::udp::endpoint sender_;
  std::map<asio::ip::udp::endpoint, std::unique_ptr<peer>> peers_;
  bool stopped_ = false;
};

}  // namespace chatgate
