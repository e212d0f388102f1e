// Sends lines no faster than the server's rate limit allows, so a script
// that pipes many lines gets every one delivered instead of "slow down".
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

namespace chatgate::client {

class paced_sender {
 public:
  using clock = std::chrono::steady_clock;

  // `rate` lines a second, bursts of twice that; 0 sends at once.
  paced_sender(asio::io_context& io, double rate, std::function<void(std::string)> send);

  void push(std::string line);
  // Sends this one before any other (a retry).
  void push_front(std::string line);
  // Sends nothing for a while (the server said "slow down").
  void pause(clock::duration d);
  std::size_t pending() const { return queue_.size(); }
  // Called whenever the queue becomes empty.
  void on_drained(std::function<void()> f) { on_drained_ = std::move(f); }
  void stop();
  // Takes back what has not been sent yet (the link is gone).
  std::deque<std::string> take_queue();

 private:
  void refill(clock::time_point now);
  void pump();

  asio::steady_timer timer_;
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
  clock::time_point paused_until_{};
  bool waiting_ = false;
  bool stopped_ = false;
  std::deque<std::string> queue_;
  std::function<void(std::string)> send_;
  std::function<void()> on_drained_;
};

}  // namespace chatgate::client
