// After a failed accept (most often: out of file descriptors), wait a
// little before accepting again instead of spinning, and log it at most
// once a second.
#pragma once

#include <chrono>
#include <cstdint>

#include <asio.hpp>
#include <spdlog/spdlog.h>

namespace chatgate {

class accept_backoff {
 public:
  accept_backoff(const asio::any_io_executor& ex, const char* listener)
      : timer_(ex), listener_(listener) {}

  template <class Again>
  void retry(const std::error_code& ec, Again&& again) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log_ >= std::chrono::seconds(1)) {
      spdlog::warn("{} accept failed: {} ({} more since the last warning); retrying in 100 ms",
                   listener_, ec.message(), suppressed_);
      last_log_ = now;
      suppressed_ = 0;
    } else {
      ++suppressed_;
    }
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([again = std::forward<Again>(again)](std::error_code wait_ec) {
      if (!wait_ec) again();
    });
  }

  void cancel() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  const char* listener_;
  std::chrono::steady_clock::time_point last_log_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace chatgate
