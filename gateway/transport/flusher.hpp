// The write scheduler every stream_session of a listener shares.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <asio.hpp>

namespace chatgate {

class stream_session;

// Writes queued output for every session with something to send, a few
// sessions per turn of the loop (Redis's clients_pending_write): between
// turns the loop reads, so a message that arrives in the middle of a large
// fan-out joins the same write for the recipients not reached yet. No
// handler per write, no allocation per write.
class flusher {
 public:
  // Queues `s` for the next turn; the caller makes sure it is not queued twice.
  void schedule(std::shared_ptr<stream_session> s);

 private:
  void run();
  void trim_later(const asio::any_io_executor& executor);

  std::vector<std::shared_ptr<stream_session>> pending_;
  std::size_t next_ = 0;  // pending_[next_] is flushed next
  bool posted_ = false;
  std::unique_ptr<asio::steady_timer> trim_timer_;
};

}  // namespace chatgate
