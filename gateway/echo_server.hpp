// RFC 862 echo on TCP and UDP; what passes is also posted to the echo room.
#pragma once

#include <string>

#include <asio.hpp>

#include "gateway/accept_backoff.hpp"
#include "gateway/config.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "gateway/rate_limiter.hpp"

namespace chatgate {

class echo_server {
 public:
  echo_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
              const asio::ip::tcp::endpoint& tcp_at);

  asio::ip::tcp::endpoint tcp_endpoint() const { return acceptor_.local_endpoint(); }
  asio::ip::udp::endpoint udp_endpoint() const { return udp_.local_endpoint(); }
  void start();
  void stop();

 private:
  friend class echo_session;

  void do_accept();
  void do_receive();
  void on_receive(std::error_code ec, std::size_t n);
  // Posts a chunk to the echo room, within a rate limit per source.
  void post(const std::string& from, rate_limiter& limit, std::string_view chunk);

  asio::ip::tcp::acceptor acceptor_;
  accept_backoff backoff_;
  asio::ip::udp::socket udp_;
  const config& cfg_;
  hub& hub_;
  metrics& metrics_;
  std::string datagram_;
  asio::ip::udp::endpoint sender_;
  rate_limiter udp_limit_;  // all UDP echo traffic shares one budget
  bool stopped_ = false;
};

}  // namespace chatgate
