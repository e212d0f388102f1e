// Shedding load when output cannot keep up.
//
// One client whose queue grows is a slow consumer: it reaches
// --max-queue-bytes and is dropped. Many at once means the server itself is
// behind (offered more than it can fan out): then the hub is told it is
// overloaded and refuses new chat messages ("server busy, slow down") until
// the queues drain, instead of every reader being dropped for a backlog
// that is the server's fault. A client that stays congested for 2 s while
// the server sheds load is not reading at all: it is dropped, so that a
// crowd of stuck clients cannot keep the server refusing messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <unordered_map>

#include <asio.hpp>

#include "gateway/hub/participant.hpp"

namespace chatgate {

class hub;

class backpressure {
 public:
  backpressure(asio::io_context& io, hub& h, std::size_t max_queue_bytes);

  // After queuing to `p`: is its queue above the high-water mark?
  void check(participant& p) {
    if (p.queued_bytes() > high_water_ &&
        congested_.emplace(&p, std::chrono::steady_clock::now()).second)
      update();
  }
  // `p` is going away.
  void forget(participant& p) {
    if (congested_.erase(&p)) update();
  }

 private:
  void update();
  void do_poll();

  asio::steady_timer poll_timer_;
  hub& hub_;
  std::size_t high_water_;
  std::size_t low_water_;
  // Congested clients and since when.
  std::unordered_map<participant*, std::chrono::steady_clock::time_point> congested_;
  bool overloaded_ = false;
  bool polling_ = false;
};

}  // namespace chatgate
