// Shedding load when output cannot keep up.
//
// A client whose queue passes half of --max-queue-bytes is congested. Many
// congested at once means the server itself is behind (offered more than it
// can fan out): then the hub is told it is overloaded and refuses new chat
// messages ("server busy, slow down") until the queues drain, instead of
// every reader being dropped for a backlog that is the server's fault.
//
// A full queue is not a verdict either: a reader that falls a whole queue
// behind (a burst, a moment without CPU) has messages shed, the ones that do
// not fit, and keeps its connection; its ids show the gap (SPEC 2), and a
// rejoin with `since` fills it. What tells a reader from a client that never
// reads is progress: the socket taking bytes. A congested client whose
// socket took nothing for 2 s while its messages are shed or the server is
// overloaded is not reading at all: it is dropped, so that a crowd of stuck
// clients cannot keep the server refusing messages.
//
// Under overload a client is watched from the low-water mark already, once
// its socket refuses bytes (blocked()): on a starved server the fan-out to
// each client is slow, and a client that never reads would otherwise take
// many seconds to fill its queue to the high-water mark before the 2 s
// could even start. Watched-only clients do not count toward overload.
// Time the server itself did not run (a poll late by more than 1 s) is
// not held against anyone.
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
    if (p.queued_bytes() > high_water_) mark_high(p);
  }
  // `p`'s queue is full: what did not fit was shed (not queued).
  void shed(participant& p);
  // `p`'s socket took less than it was offered and more is queued.
  void blocked(participant& p) {
    if (overloaded_ && p.queued_bytes() >= low_water_) congested_.try_emplace(&p, since_now(false));
    if (!congested_.empty() && !polling_) start_polling();
  }
  // `p`'s socket took bytes while its queue was at or above the low-water
  // mark (it may be congested: it stays so until it drains below it).
  void progress(participant& p) {
    if (auto it = congested_.find(&p); it != congested_.end()) it->second.progress = std::chrono::steady_clock::now();
  }
  std::size_t low_water() const { return low_water_; }
  // `p` is going away.
  void forget(participant& p);

 private:
  // A congested client: the last time its socket took bytes (or it became
  // congested), whether messages were shed for it since, and whether it
  // passed the high-water mark (false: watched from the low-water mark).
  struct congestion {
    std::chrono::steady_clock::time_point progress;
    bool shedding = false;
    bool high = true;
  };
  static congestion since_now(bool high = true) { return {std::chrono::steady_clock::now(), false, high}; }

  // `p` passed the high-water mark; returns its entry.
  congestion& mark_high(participant& p);
  void update();
  void start_polling();
  void do_poll();

  asio::steady_timer poll_timer_;
  hub& hub_;
  std::size_t high_water_;
  std::size_t low_water_;
  std::unordered_map<participant*, congestion> congested_;
  std::size_t high_ = 0;  // entries of congested_ with `high`
  std::chrono::steady_clock::time_point last_poll_{};
  bool overloaded_ = false;
  bool polling_ = false;
};

}  // namespace chatgate
