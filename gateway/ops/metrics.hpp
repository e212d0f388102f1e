// Counters for GET /metrics (Prometheus text format, SPEC 8).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "protocol/event.hpp"

namespace chatgate {

enum class drop_reason : std::uint8_t { slow_consumer, udp_idle, server_full, frame_too_big, udp_evicted, count };

// Datagrams the UDP listeners drop or do not answer (SPEC 9), by reason.
enum class udp_drop : std::uint8_t {
  budget,          // chat: over an unvalidated address's anti-amplification budget
  error_rate,      // chat: a second `! ` reply to one peer within a second
  reflection,      // chat: a peer sent back a line the server had just sent it
  low_port,        // chat and echo: source port below 1024
  own_port,        // echo: source is one of this server's own UDP ports
  echo_repeat,     // echo: the same datagram from the same source too often (a loop)
  echo_busy,       // echo: too many distinct datagrams this second to check for loops
  unvalidated_rate,  // chat: a line over the rate all unvalidated peers share
  count
};

// SPEC 13: what became of a token, or of a client that needed one.
enum class auth_result : std::uint8_t {
  ok,         // a token accepted (any transport)
  bad_token,  // refused: forged, malformed, another alg, not valid yet, no secret
  expired,    // refused: past its exp
  required,   // --require-auth: a client with no token refused (401) or closed at the timeout
  count
};
// Listeners that speak TLS (SPEC 13).
enum class tls_listener : std::uint8_t { https, tls_tcp, irc_tls, count };
const char* to_label(tls_listener l);

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
  std::uint64_t shed = 0;  // events not queued for a client whose queue was full
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
  // --redis only (SPEC 11).
  std::string node_id;  // non-empty: a cluster node
  bool redis_up = false;
  std::uint64_t redis_resyncs = 0;  // subscriptions restored (reconnect, deaf probe)
  std::array<std::uint64_t, static_cast<std::size_t>(udp_drop::count)> udp_dropped{};
  std::uint64_t udp_budget_dropped_bytes = 0;
  std::uint64_t udp_unvalidated = 0;   // gauge: UDP peers that have not sent /ok
  std::uint64_t udp_validations = 0;   // UDP peers that sent the right /ok code
  std::uint64_t udp_budget_sources = 0;  // gauge: source addresses the budget remembers
  // Datagrams through the UDP chat and echo sockets: [chat, echo][in, out].
  std::array<std::array<std::uint64_t, 2>, 2> udp_datagrams{};

  std::array<std::uint64_t, static_cast<std::size_t>(auth_result::count)> auth{};
  // TLS handshakes that failed or timed out, by listener.
  std::array<std::uint64_t, static_cast<std::size_t>(tls_listener::count)> tls_handshake_failures{};

  static std::size_t at(protocol::via v) { return static_cast<std::size_t>(v); }
  void count_auth(auth_result r) { ++auth[static_cast<std::size_t>(r)]; }
  void count_tls_failure(tls_listener l) { ++tls_handshake_failures[static_cast<std::size_t>(l)]; }
  void count_drop(drop_reason r) { ++dropped[static_cast<std::size_t>(r)]; }
  void count_udp_drop(udp_drop r) { ++udp_dropped[static_cast<std::size_t>(r)]; }

  std::string render() const;

 private:
  void render_db(std::string& out) const;
  void render_auth(std::string& out) const;
  void render_cluster(std::string& out) const;
};

}  // namespace chatgate
