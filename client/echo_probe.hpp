// A small round-trip probe: --count payloads of --size bytes, one at a
// time, each timed from send to its full echo; then min/median/p99.
#pragma once

#include <chrono>
#include <vector>

#include <asio/steady_timer.hpp>

#include "client/session.hpp"

namespace chatgate::client {

class echo_probe final : public session {
 public:
  echo_probe(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt);
  void interrupt() override { report(); }

 private:
  using clock = std::chrono::steady_clock;

  void on_open() override;
  void on_data(std::string_view chunk) override;
  void on_link_closed(const std::string& why) override;

  void send_next();
  void on_lost();
  void report();

  asio::steady_timer probe_timer_;
  std::string payload_;
  std::string echoed_;  // TCP: what has come back of the payload so far
  clock::time_point sent_at_;
  std::size_t sent_ = 0;
  std::size_t lost_ = 0;
  std::size_t mismatched_ = 0;
  std::vector<double> rtt_ms_;
};

// Payload number `seq` of `size` printable bytes, its number first so that
// a late UDP echo of an earlier probe is not taken for this one.
std::string probe_payload(std::size_t seq, std::size_t size);

// Nearest-rank percentile (0 < p <= 100) of sorted values.
double percentile(const std::vector<double>& sorted, double p);

}  // namespace chatgate::client
