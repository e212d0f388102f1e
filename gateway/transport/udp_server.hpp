// UDP chat: each datagram holds text lines; a peer is its address and port
// and is forgotten after --udp-idle-s without a datagram (SPEC 3).
//
// A new peer is unvalidated until it sends back the `/ok CODE` it was sent
// (SPEC 9): until then it is outside --max-clients (--max-udp-peers caps
// it instead) and what goes to its address obeys the anti-amplification
// budget, so a forged source address cannot turn the server into a weapon.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/transport/backpressure.hpp"
#include "gateway/ops/config.hpp"
#include "gateway/transport/datagram_memory.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/hub/rate_limiter.hpp"
#include "gateway/transport/keyed_hash.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/transport/udp_budget.hpp"

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
  using endpoint = asio::ip::udp::endpoint;

  void do_receive();
  void on_receive(std::error_code ec, std::size_t n);
  void on_datagram(const endpoint& from, std::string_view data);
  peer& admit(const endpoint& from);
  // `/ok CODE`: the peer proves it receives at its address.
  void on_ok(peer& p, std::string_view code);
  std::string code_for(const endpoint& who) const;
  std::string ok_prompt(const endpoint& who) const;  // `* send /ok CODE ...` and its newline
  // One line to one peer, within its budget while it is unvalidated.
  void send_line(peer& p, std::string_view line);
  void send_to(const endpoint& to, std::string_view bytes);
  void forget_later(const endpoint& who);
  void forget(const endpoint& who);
  void do_sweep();

  asio::ip::udp::socket socket_;
  asio::steady_timer sweep_timer_;
  const config& cfg_;
  hub& hub_;
  metrics& metrics_;
  backpressure& pressure_;
  std::string buffer_;
  endpoint sender_;
  std::map<endpoint, std::unique_ptr<peer>> peers_;
  std::list<endpoint> unvalidated_;  // oldest first: forgotten first at --max-udp-peers
  udp_budget budget_;
  // Lines from all unvalidated peers together: throwaway (or forged) source
  // ports each bring a fresh --burst, this bounds what they post in all.
  rate_limiter unvalidated_limit_;
  keyed_hash hash_;             // `/ok` codes and reflection keys
  datagram_memory sent_;        // lines sent to unvalidated peers, to spot them coming back
  bool stopped_ = false;
};

}  // namespace chatgate
