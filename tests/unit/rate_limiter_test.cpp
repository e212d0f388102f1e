#include "gateway/hub/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsABurstThenTheRate) {
  const auto t0 = rate_limiter::clock::time_point{} + 1h;
  rate_limiter limit(40, t0);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limit.allow(20, 40, t0);
  EXPECT_EQ(allowed, 40);
  // Half a second later: 10 more tokens at 20/s.
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limit.allow(20, 40, t0 + 500ms);
  EXPECT_EQ(allowed, 10);
}

TEST(RateLimiter, NeverExceedsTheBurst) {
  const auto t0 = rate_limiter::clock::time_point{} + 1h;
  rate_limiter limit(5, t0);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limit.allow(20, 5, t0 + 1h);
  EXPECT_EQ(allowed, 5);
}

}  // namespace
}  // namespace chatgate
