// The anti-amplification budget of SPEC 9 (QUIC's rule, RFC 9000 8.1): what
// the UDP chat may send to one source IP address that has not proved it
// receives there is at most 3x what came from it plus 256 bytes a minute.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>

#include <asio/ip/address.hpp>

namespace chatgate {

class udp_budget {
 public:
  using clock = std::chrono::steady_clock;

  static constexpr double factor = 3.0;             // bytes out per byte in
  static constexpr double allowance = 256.0;        // bytes a minute, and the start
  static constexpr double max_credit = 3.0 * 65536 + 256;  // one datagram's worth, banked

  // Remembers at most `max_sources` addresses, the least recently seen
  // forgotten first (a forgotten address starts again at 256 bytes).
  explicit udp_budget(std::size_t max_sources) : max_sources_(max_sources) {}

  // `n` bytes of UDP payload arrived from `ip`.
  void received(const asio::ip::address& ip, std::size_t n, clock::time_point now);
  // Takes `n` bytes from `ip`'s credit if they fit; false: do not send.
  bool spend(const asio::ip::address& ip, std::size_t n, clock::time_point now);
  // Forgets addresses not seen for a minute: their credit is back to at
  // least the starting allowance, so forgetting gives nothing away.
  void sweep(clock::time_point now);

  std::size_t sources() const { return sources_.size(); }

 private:
  struct source {
    double credit = allowance;
    clock::time_point refilled;
    std::list<asio::ip::address>::iterator lru;
  };

  source& touch(const asio::ip::address& ip, clock::time_point now);

  std::size_t max_sources_;
  std::map<asio::ip::address, source> sources_;
  std::list<asio::ip::address> lru_;  // least recently seen first
};

}  // namespace chatgate
