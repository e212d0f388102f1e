#include "gateway/transport/flusher.hpp"

#include <algorithm>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "gateway/transport/stream_session.hpp"

namespace chatgate {
namespace {

// Sessions flushed per turn of the loop, between two looks for input.
constexpr std::size_t flushes_per_turn = 64;
// Sessions flushed in one go that count as a burst worth trimming after.
constexpr std::size_t trim_after_burst = 1000;
constexpr std::chrono::milliseconds trim_delay{100};

}  // namespace

void flusher::schedule(std::shared_ptr<stream_session> s) {
  auto executor = s->executor();
  pending_.push_back(std::move(s));
  if (!posted_) {
    posted_ = true;
    asio::post(executor, [this] { run(); });
  }
}

void flusher::run() {
  // A session flushed here may be scheduled again (it closed, say): it goes
  // to the back of pending_, and posted_ stays set so nothing posts twice.
  const std::size_t end = std::min(pending_.size(), next_ + flushes_per_turn);
  for (; next_ < end; ++next_) pending_[next_]->flush();
  if (next_ < pending_.size()) {
    // Let the loop read before the next few: see the class comment.
    asio::post(pending_[next_]->executor(), [this] { run(); });
    return;
  }
  posted_ = false;
  if (pending_.size() >= trim_after_burst) trim_later(pending_.front()->executor());
  pending_.clear();
  next_ = 0;
  if (pending_.capacity() > 4096) std::vector<std::shared_ptr<stream_session>>().swap(pending_);
}

void flusher::trim_later(const asio::any_io_executor& executor) {
  // A burst that reached thousands of clients (a crowd joining, a flood)
  // leaves its queues and frames behind as free heap: once the bursts stop,
  // hand whole free pages back to the system instead of keeping the peak.
  // While bursts keep coming the timer keeps moving, so a busy server pays
  // nothing.
#ifdef __GLIBC__
  if (!trim_timer_) trim_timer_ = std::make_unique<asio::steady_timer>(executor);
  trim_timer_->expires_after(trim_delay);
  trim_timer_->async_wait([](std::error_code ec) {
    if (!ec) malloc_trim(0);
  });
#else
  (void)executor;
#endif
}

}  // namespace chatgate
