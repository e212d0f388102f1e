// Token bucket: `rate` messages per second, up to `burst` at once (SPEC 7).
#pragma once

#include <algorithm>
#include <chrono>

namespace chatgate {

// Rate and burst are the same for every client and live in the config;
// each client keeps only its bucket.
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  rate_limiter(double burst, clock::time_point now) : tokens_(burst), last_(now) {}

  // Takes one token if there is one.
  bool allow(double rate, double burst, clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst, tokens_ + elapsed * rate);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double tokens_;
  clock::time_point last_;
};

}  // namespace chatgate
