#include "client/echo_probe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chatgate::client {
namespace {

// A UDP datagram that has not come back by then is counted as lost.
constexpr double udp_wait_s = 1.0;

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", ms);
  return text;
}

}  // namespace

std::string probe_payload(std::size_t seq, std::size_t size) {
  std::string payload = std::to_string(seq) + " ";
  for (std::size_t i = 0; payload.size() < size; ++i)
    payload.push_back(static_cast<char>('a' + (seq + i) % 26));
  payload.resize(size);
  return payload;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

echo_probe::echo_probe(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : session(io, con, std::move(l), opt), probe_timer_(io) {}

void echo_probe::on_open() {
  disarm_deadline();
  send_next();
}

void echo_probe::send_next() {
  if (sent_ == opt_.count) return report();
  payload_ = probe_payload(++sent_, opt_.size);
  echoed_.clear();
  const bool udp = opt_.to.kind == transport::udp;
  const double wait_s = udp ? std::min(udp_wait_s, opt_.timeout_s) : opt_.timeout_s;
  probe_timer_.expires_after(std::chrono::milliseconds(static_cast<long long>(wait_s * 1000)));
  probe_timer_.async_wait([this](std::error_code ec) {
    if (!ec && !finished()) on_lost();
  });
  sent_at_ = clock::now();
  link_->send(payload_);
}

void echo_probe::on_data(std::string_view chunk) {
  const auto now = clock::now();
  if (opt_.to.kind == transport::udp) {
    if (chunk != payload_) return;  // a late echo of an earlier probe
  } else {
    echoed_.append(chunk);
    if (echoed_.size() < payload_.size()) return;
    if (echoed_ != payload_) {
      ++mismatched_;
      return finish(1, "the echo server sent back something else than what was sent");
    }
  }
  probe_timer_.cancel();
  rtt_ms_.push_back(std::chrono::duration<double, std::milli>(now - sent_at_).count());
  send_next();
}

void echo_probe::on_lost() {
  // TCP loses nothing: a missing echo means the server is stuck.
  if (opt_.to.kind == transport::tcp)
    return finish(1, "no echo from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s));
  ++lost_;
  send_next();
}

void echo_probe::report() {
  if (finished()) return;
  std::vector<double> sorted = rtt_ms_;
  std::sort(sorted.begin(), sorted.end());
  console_.print(opt_.to.describe() + ": " + std::to_string(sorted.size()) + " round trips of " +
                 std::to_string(opt_.size) + " bytes, " + std::to_string(lost_) + " lost");
  if (!sorted.empty())
    console_.print("rtt min " + format_ms(sorted.front()) + ", median " + format_ms(percentile(sorted, 50)) +
                   ", p99 " + format_ms(percentile(sorted, 99)));
  if (sorted.empty()) return finish(1, "nothing came back");
  if (lost_ > 0) return finish(1, std::to_string(lost_) + " of " + std::to_string(sent_) + " probes lost");
  finish(sent_ == opt_.count ? 0 : 1, sent_ == opt_.count ? "" : "interrupted");
}

void echo_probe::on_link_closed(const std::string& why) {
  finish(1, why.empty() ? "the server closed the connection" : why);
}

}  // namespace chatgate::client
