// RFC 862 echo on TCP and UDP; what passes is also posted to the echo room,
// one message per line.
//
// The UDP echo never answers well-known ports (below 1024) nor this
// server's own UDP ports, and echoes the same datagram from the same source
// at most `max_repeats` times within a second or two: two echo servers that
// were tricked into echoing each other (a forged source) stop at once, while
// a client that sends its own payloads, even thousands a second, is served.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <asio.hpp>

#include "gateway/transport/accept_backoff.hpp"
#include "gateway/ops/config.hpp"
#include "gateway/transport/datagram_memory.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/transport/keyed_hash.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/hub/rate_limiter.hpp"

namespace chatgate {

class echo_server {
 public:
  echo_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
              const asio::ip::tcp::endpoint& tcp_at);

  asio::ip::tcp::endpoint tcp_endpoint() const { return acceptor_.local_endpoint(); }
  asio::ip::udp::endpoint udp_endpoint() const { return udp_.local_endpoint(); }
  void start();
  void stop();
  // Another UDP port of this server (the chat's): never answered either.
  void add_own_port(std::uint16_t port) { own_ports_.insert(port); }

  static constexpr std::uint32_t max_repeats = 16;

 private:
  friend class echo_session;

  void do_accept();
  void do_receive();
  void on_receive(std::error_code ec, std::size_t n);
  void on_datagram(std::string_view data);
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
  std::set<std::uint16_t> own_ports_;
  keyed_hash hash_;
  datagram_memory recent_;  // datagrams echoed lately, by source and content
  bool stopped_ = false;
};

}  // namespace chatgate
