// Counters for GET /metrics (Prometheus text format, SPEC 8).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "protocol/event.hpp"

namespace chatgate {

enum class drop_reason : std::uint8_t { slow_consumer, udp_idle, server_full, frame_too_big, count };

struct metrics {
  using per_via = std::array<std::uint64_t, protocol::via_count>;

  per_via clients{};             // connected now (echo: open TCP echo connections)
  per_via received{};            // lines and frames received from clients
  per_via delivered{};           // events written toward clients
  std::array<std::uint64_t, static_cast<std::size_t>(drop_reason::count)> dropped{};
  std::uint64_t rooms = 0;
  std::uint64_t messages = 0;    // chat messages accepted and fanned out
  std::uint64_t direct_messages = 0;  // direct messages delivered (SPEC 12)
  std::uint64_t udp_send_drops = 0;

  static std::size_t at(protocol::via v) { return static_cast<std::size_t>(v); }
  void count_drop(drop_reason r) { ++dropped[static_cast<std::size_t>(r)]; }

  std::string render() const;
};

}  // namespace chatgate
