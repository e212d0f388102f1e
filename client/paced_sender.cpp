#include "client/paced_sender.hpp"

#include <algorithm>

namespace chatgate::client {

paced_sender::paced_sender(asio::io_context& io, double rate, std::function<void(std::string)> send)
    : timer_(io),
      rate_(rate),
      burst_(std::max(1.0, 2 * rate)),
      tokens_(burst_),
      last_(clock::now()),
      send_(std::move(send)) {}

void paced_sender::push(std::string line) {
  queue_.push_back(std::move(line));
  pump();
}

void paced_sender::push_front(std::string line) {
  queue_.push_front(std::move(line));
  pump();
}

void paced_sender::pause(clock::duration d) {
  paused_until_ = std::max(paused_until_, clock::now() + d);
  tokens_ = 0;
}

void paced_sender::stop() {
  stopped_ = true;
  queue_.clear();
  timer_.cancel();
}

std::deque<std::string> paced_sender::take_queue() {
  std::deque<std::string> taken;
  taken.swap(queue_);
  return taken;
}

void paced_sender::refill(clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

void paced_sender::pump() {
  if (stopped_ || waiting_) return;
  while (!queue_.empty()) {
    const auto now = clock::now();
    refill(now);
    clock::duration wait{};
    if (now < paused_until_)
      wait = paused_until_ - now;
    else if (rate_ > 0 && tokens_ < 1)
      wait = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>((1 - tokens_) / rate_));
    if (wait > clock::duration::zero()) {
      // Come back when a token is there.
      waiting_ = true;
      timer_.expires_after(wait);
      timer_.async_wait([this](std::error_code ec) {
        waiting_ = false;
        if (!ec) pump();
      });
      return;
    }
    if (rate_ > 0) tokens_ -= 1;
    std::string line = std::move(queue_.front());
    queue_.pop_front();
    send_(std::move(line));
    if (stopped_) return;
  }
  if (on_drained_) on_drained_();
}

}  // namespace chatgate::client
