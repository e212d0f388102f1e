// chatgate's own Redis links (client, subscriber) in unit tests against a
// real redis-server: their options, bringing them up, and one command run
// to its end.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/redis/redis_client.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace chatgate::test {

// Options for `url` with deadlines a loaded machine meets and quick
// reconnects (a test waits for them).
inline redis::options redis_options(const std::string& url,
                                    std::chrono::milliseconds deadlines = std::chrono::seconds(3)) {
  std::string error;
  auto u = redis::parse_url(url, error);
  EXPECT_TRUE(u) << error;
  redis::options o;
  if (u) o.target = *u;
  o.connect_timeout = deadlines;
  o.command_timeout = deadlines;
  o.backoff_min = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  return o;
}

// Starts every link, in order, and runs the loop until all of them are up.
template <class... Links>
bool start_until_up(asio::io_context& io, Links&... links) {
  (links.start(), ...);
  return run_until(io, [&] { return (links.up() && ...); });
}

// What a command's callback got.
struct command_outcome {
  std::error_code ec;
  redis::reply r;
};

// Sends one command and runs the loop until its callback ran; nullopt if it
// did not within run_until's timeout (the callback may still run later: it
// owns what it writes to).
inline std::optional<command_outcome> run_command(asio::io_context& io, redis::client& c,
                                                  std::vector<std::string> args) {
  auto out = std::make_shared<std::optional<command_outcome>>();
  c.command(std::move(args), [out](std::error_code ec, redis::reply r) {
    *out = command_outcome{ec, std::move(r)};
  });
  if (!run_until(io, [&] { return out->has_value(); })) return std::nullopt;
  return *out;
}

// The reply of a command that must succeed (test set-up); nullopt when it
// failed or never answered.
inline std::optional<redis::reply> sync(asio::io_context& io, redis::client& c,
                                        std::vector<std::string> args) {
  auto done = run_command(io, c, std::move(args));
  if (!done || done->ec) return std::nullopt;
  return std::move(done->r);
}

}  // namespace chatgate::test
