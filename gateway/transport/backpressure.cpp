#include "gateway/transport/backpressure.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "gateway/hub/hub.hpp"

namespace chatgate {
namespace {

constexpr auto stuck_after = std::chrono::seconds(2);

}  // namespace

backpressure::backpressure(asio::io_context& io, hub& h, std::size_t max_queue_bytes)
    : poll_timer_(io), hub_(h), high_water_(max_queue_bytes / 2), low_water_(max_queue_bytes / 8) {}

void backpressure::shed(participant& p) {
  auto [it, added] = congested_.emplace(&p, since_now());
  it->second.shedding = true;
  if (added) update();
}

void backpressure::update() {
  // A few congested clients are slow consumers; an eighth of them is overload.
  const std::size_t threshold = std::max<std::size_t>(4, hub_.client_count() / 8);
  const bool overloaded = congested_.size() > threshold;
  if (overloaded != overloaded_) {
    spdlog::debug("{} clients congested: {}", congested_.size(),
                  overloaded ? "overloaded, refusing messages" : "accepting messages again");
    overloaded_ = overloaded;
    hub_.set_overloaded(overloaded);
  }
  if (!congested_.empty() && !polling_) {
    polling_ = true;
    do_poll();
  }
}

void backpressure::do_poll() {
  // Queues drain without telling anyone (websocketpp has no drain event):
  // look again at the congested ones only.
  poll_timer_.expires_after(std::chrono::milliseconds(2));
  poll_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<participant*> stuck;
    for (auto it = congested_.begin(); it != congested_.end();) {
      const bool drained = it->first->queued_bytes() < low_water_;
      const bool idle = now - it->second.progress > stuck_after;
      const bool is_stuck = !drained && idle && (overloaded_ || it->second.shedding);
      if (is_stuck) stuck.push_back(it->first);
      it = (drained || is_stuck) ? congested_.erase(it) : std::next(it);
    }
    for (participant* p : stuck) p->drop_slow();
    polling_ = false;
    update();
  });
}

}  // namespace chatgate
