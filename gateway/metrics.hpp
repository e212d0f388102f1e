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
  std::uint64_t udp_send_drops = 0;
  std::uint64_t history_bytes = 0;  // in-memory history of all rooms (--history-bytes)
  std::uint64_t store_errors = 0;   // messages refused because the store could not keep them

  // --db only (SPEC 10).
  bool db = false;
  std::uint64_t persisted = 0;      // messages committed to disk
  std::uint64_t db_bytes = 0;       // database and WAL file sizes
  // Time from a batch's first message reaching the store to its commit.
  static constexpr std::array<double, 12> commit_buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                         0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
  std::array<std::uint64_t, commit_buckets.size()> commit_counts{};  // not cumulative
  std::uint64_t commits = 0;
  double commit_seconds = 0;
  void observe_commit(double seconds);

  static std::size_t at(protocol::via v) { return static_cast<std::size_t>(v); }
  void count_drop(drop_reason r) { ++dropped[static_cast<std::size_t>(r)]; }

  std::string render() const;

 private:
  void render_db(std::string& out) const;
};

}  // namespace chatgate
