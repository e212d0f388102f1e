#include "gateway/transport/backpressure.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "gateway/hub/hub.hpp"

namespace chatgate {
namespace {

constexpr auto stuck_after = std::chrono::seconds(2);
constexpr auto poll_every = std::chrono::milliseconds(2);
// A poll this late means the server was not running: nobody could progress.
// (Not less: a starved server's polls are often 100-500 ms late, and
// forgiving those would never let the 2 s run out for anyone.)
constexpr auto starved_after = std::chrono::seconds(1);

}  // namespace

backpressure::backpressure(asio::io_context& io, hub& h, std::size_t max_queue_bytes)
    : poll_timer_(io), hub_(h), high_water_(max_queue_bytes / 2), low_water_(max_queue_bytes / 8) {}

backpressure::congestion& backpressure::mark_high(participant& p) {
  auto [it, added] = congested_.try_emplace(&p, since_now());
  if (added || !it->second.high) {
    it->second.high = true;
    ++high_;
    update();
  }
  return it->second;
}

void backpressure::shed(participant& p) { mark_high(p).shedding = true; }

void backpressure::forget(participant& p) {
  auto it = congested_.find(&p);
  if (it == congested_.end()) return;
  high_ -= it->second.high;
  congested_.erase(it);
  update();
}

void backpressure::update() {
  // A few congested clients are slow consumers; an eighth of them is overload.
  const std::size_t threshold = std::max<std::size_t>(4, hub_.client_count() / 8);
  const bool overloaded = high_ > threshold;
  if (overloaded != overloaded_) {
    spdlog::debug("{} clients congested: {}", high_,
                  overloaded ? "overloaded, refusing messages" : "accepting messages again");
    overloaded_ = overloaded;
    hub_.set_overloaded(overloaded);
  }
  if (!congested_.empty() && !polling_) start_polling();
}

void backpressure::start_polling() {
  polling_ = true;
  last_poll_ = std::chrono::steady_clock::now();
  do_poll();
}

void backpressure::do_poll() {
  // Queues drain without telling anyone (websocketpp has no drain event):
  // look again at the congested ones only.
  poll_timer_.expires_after(poll_every);
  poll_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    const auto gap = now - last_poll_;
    last_poll_ = now;
    std::vector<participant*> stuck;
    for (auto it = congested_.begin(); it != congested_.end();) {
      if (gap > starved_after) it->second.progress += gap;  // the server stood still, not the client
      const bool drained = it->first->queued_bytes() < low_water_;
      const bool idle = now - it->second.progress > stuck_after;
      const bool is_stuck = !drained && idle && (overloaded_ || it->second.shedding);
      if (is_stuck) stuck.push_back(it->first);
      if (drained || is_stuck) {
        high_ -= it->second.high;
        it = congested_.erase(it);
      } else {
        ++it;
      }
    }
    for (participant* p : stuck) p->drop_slow();
    polling_ = false;
    update();
  });
}

}  // namespace chatgate
