// Every setting of the gateway: flags, CHATGATE_* variables, defaults (SPEC 1, 7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace chatgate {

struct config {
  std::string bind = "0.0.0.0";
  std::uint16_t http_port = 8080;
  std::uint16_t tcp_port = 7000;
  std::uint16_t udp_port = 7000;
  std::uint16_t echo_port = 7007;
  std::uint16_t irc_port = 6667;
  bool no_tcp = false;
  bool no_udp = false;
  bool no_echo = false;
  bool no_irc = false;
  std::string ports_file;
  std::string log_level = "info";
  std::string web_root;  // empty: serve the page embedded in the binary
  bool trust_proxy = false;

  std::string default_room = "lobby";
  std::string echo_room = "echo";  // empty: echo traffic is not posted
  std::size_t history = 100;
  std::size_t history_bytes = std::size_t{64} << 20;  // all rooms' in-memory history (SPEC 9)
  std::string db;                // --db: SQLite file (SPEC 10); empty: nothing on disk
  std::size_t db_retain = 10000;  // messages kept per room on disk

  // Cluster (SPEC 11): empty redis: a single node.
  std::string redis;    // --redis redis://[:PASSWORD@]HOST:PORT[/DB]
  std::string node_id;  // --node-id; default: host name and pid
  unsigned redis_timeout_ms = 3000;  // every Redis command's deadline (unavailable after it)
  unsigned redis_ttl_ms = 12000;     // nick claims, presence, node liveness; refreshed every third

  std::size_t max_message_bytes = 4096;
  std::size_t max_frame_bytes = 65536;
  double rate = 20;   // messages per second, per client
  double burst = 40;  // messages at once, per client
  std::size_t max_queue_bytes = 1 << 20;
  std::size_t max_clients = 10000;
  std::size_t max_rooms_per_client = 64;
  // Rooms above this many members announce joins and leaves as a count
  // once a second instead of one by one (docs/architecture.md); 0: never.
  std::size_t presence_limit = 200;
  unsigned line_idle_ms = 250;
  unsigned udp_idle_s = 300;
  std::size_t max_udp_peers = 1000;  // unvalidated UDP peers at once (SPEC 9)
  unsigned shutdown_delay_s = 0;  // SIGTERM: /readyz says 503 this long first
  unsigned irc_ping_s = 120;  // a silent IRC client is pinged, then dropped

  // TLS (SPEC 13): with both, the HTTP port speaks HTTPS and WSS only and
  // the TLS TCP chat port opens.
  std::string tls_cert;
  std::string tls_key;
  std::uint16_t tls_tcp_port = 7443;
  bool no_tls_tcp = false;
  std::uint16_t irc_tls_port = 6697;  // IRC over TLS, with the same certificate
  bool no_irc_tls = false;
  bool tls() const { return !tls_cert.empty(); }

  // Tokens (SPEC 13): HS256 secret; empty: tokens are not accepted.
  std::string auth_secret;
  std::string auth_secret_file;
  bool require_auth = false;
  unsigned auth_timeout_s = 10;
};

// Fills `out` from argv and the environment (flags win). Returns an exit
// status when the process should stop now (--help, --version); throws
// startup_error naming the flag and the value for bad input.
std::optional<int> parse_config(int argc, char** argv, config& out);

}  // namespace chatgate
