#include "gateway/ops/metrics.hpp"

#include <cstdio>

namespace chatgate {

const char* to_label(tls_listener l) {
  switch (l) {
    case tls_listener::https: return "https";
    case tls_listener::tls_tcp: return "tls_tcp";
    case tls_listener::irc_tls: return "irc_tls";
    case tls_listener::count: break;
  }
  return "?";
}
namespace {

const char* to_string(drop_reason r) {
  switch (r) {
    case drop_reason::slow_consumer: return "slow_consumer";
    case drop_reason::udp_idle: return "udp_idle";
    case drop_reason::server_full: return "server_full";
    case drop_reason::frame_too_big: return "frame_too_big";
    case drop_reason::udp_evicted: return "udp_evicted";
    case drop_reason::count: break;
  }
  return "?";
}

const char* to_string(udp_drop r) {
  switch (r) {
    case udp_drop::budget: return "budget";
    case udp_drop::error_rate: return "error_rate";
    case udp_drop::reflection: return "reflection";
    case udp_drop::low_port: return "low_port";
    case udp_drop::own_port: return "own_port";
    case udp_drop::echo_repeat: return "echo_repeat";
    case udp_drop::echo_busy: return "echo_busy";
    case udp_drop::unvalidated_rate: return "unvalidated_rate";
    case udp_drop::count: break;
  }
  return "?";
}

const char* to_string(auth_result r) {
  switch (r) {
    case auth_result::ok: return "ok";
    case auth_result::bad_token: return "bad_token";
    case auth_result::expired: return "expired";
    case auth_result::required: return "required";
    case auth_result::count: break;
  }
  return "?";
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void per_transport(std::string& out, const char* name, const metrics::per_via& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    out.append(name).append("{transport=\"");
    out.append(protocol::to_string(static_cast<protocol::via>(i)));
    out.append("\"} ").append(std::to_string(values[i])).append("\n");
  }
}

}  // namespace

std::string metrics::render() const {
  std::string out;
  family(out, "chatgate_clients", "gauge", "Clients connected now, by transport.");
  per_transport(out, "chatgate_clients", clients);
  family(out, "chatgate_messages_received_total", "counter",
         "Lines and frames received from clients, by transport.");
  per_transport(out, "chatgate_messages_received_total", received);
  family(out, "chatgate_messages_delivered_total", "counter",
         "Events sent to clients, by the recipient's transport.");
  per_transport(out, "chatgate_messages_delivered_total", delivered);
  family(out, "chatgate_chat_messages_total", "counter", "Chat messages accepted into rooms.");
  out.append("chatgate_chat_messages_total ").append(std::to_string(messages)).append("\n");
  family(out, "chatgate_direct_messages_total", "counter", "Direct messages delivered.");
  out.append("chatgate_direct_messages_total ").append(std::to_string(direct_messages)).append("\n");
  family(out, "chatgate_rooms", "gauge", "Rooms that exist now.");
  out.append("chatgate_rooms ").append(std::to_string(rooms)).append("\n");
  family(out, "chatgate_clients_dropped_total", "counter",
         "Clients disconnected or refused by the server, by reason.");
  for (std::size_t i = 0; i < dropped.size(); ++i) {
    out.append("chatgate_clients_dropped_total{reason=\"");
    out.append(to_string(static_cast<drop_reason>(i))).append("\"} ");
    out.append(std::to_string(dropped[i])).append("\n");
  }
  family(out, "chatgate_udp_send_drops_total", "counter",
         "UDP datagrams not sent because the socket buffer was full.");
  out.append("chatgate_udp_send_drops_total ").append(std::to_string(udp_send_drops)).append("\n");
  family(out, "chatgate_shed_total", "counter",
         "Events not queued for a client whose queue was full (it keeps its connection while it reads).");
  out.append("chatgate_shed_total ").append(std::to_string(shed)).append("\n");
  family(out, "chatgate_history_bytes", "gauge",
         "Bytes the in-memory history of all rooms holds (capped by --history-bytes).");
  out.append("chatgate_history_bytes ").append(std::to_string(history_bytes)).append("\n");
  family(out, "chatgate_store_errors_total", "counter",
         "Messages refused as unavailable because the store could not keep them.");
  out.append("chatgate_store_errors_total ").append(std::to_string(store_errors)).append("\n");
  if (db) render_db(out);
  if (!node_id.empty()) render_cluster(out);
  family(out, "chatgate_udp_dropped_total", "counter",
         "UDP datagrams dropped or not answered to resist abuse (SPEC 9), by reason.");
  for (std::size_t i = 0; i < udp_dropped.size(); ++i) {
    out.append("chatgate_udp_dropped_total{reason=\"");
    out.append(to_string(static_cast<udp_drop>(i))).append("\"} ");
    out.append(std::to_string(udp_dropped[i])).append("\n");
  }
  family(out, "chatgate_udp_budget_drops_total", "counter",
         "UDP chat datagrams not sent because the address's anti-amplification budget was spent.");
  out.append("chatgate_udp_budget_drops_total ")
      .append(std::to_string(udp_dropped[static_cast<std::size_t>(udp_drop::budget)])).append("\n");
  family(out, "chatgate_udp_budget_dropped_bytes_total", "counter",
         "Bytes of UDP payload not sent because of the anti-amplification budget.");
  out.append("chatgate_udp_budget_dropped_bytes_total ").append(std::to_string(udp_budget_dropped_bytes)).append("\n");
  family(out, "chatgate_udp_unvalidated_peers", "gauge", "UDP chat peers that have not validated with /ok.");
  out.append("chatgate_udp_unvalidated_peers ").append(std::to_string(udp_unvalidated)).append("\n");
  family(out, "chatgate_udp_validations_total", "counter", "UDP chat peers that validated with /ok.");
  out.append("chatgate_udp_validations_total ").append(std::to_string(udp_validations)).append("\n");
  family(out, "chatgate_udp_budget_sources", "gauge",
         "Source addresses the UDP anti-amplification budget remembers (capped).");
  out.append("chatgate_udp_budget_sources ").append(std::to_string(udp_budget_sources)).append("\n");
  family(out, "chatgate_udp_datagrams_total", "counter", "Datagrams through the UDP chat and echo sockets.");
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 2; ++d)
      out.append("chatgate_udp_datagrams_total{listener=\"").append(l ? "echo" : "chat")
          .append("\",direction=\"").append(d ? "out" : "in").append("\"} ")
          .append(std::to_string(udp_datagrams[l][d])).append("\n");
  render_auth(out);
  return out;
}

void metrics::render_auth(std::string& out) const {
  family(out, "chatgate_auth_total", "counter",
         "Tokens accepted or refused, and clients refused for having none (--require-auth), by result.");
  for (std::size_t i = 0; i < auth.size(); ++i)
    out.append("chatgate_auth_total{result=\"").append(to_string(static_cast<auth_result>(i)))
        .append("\"} ").append(std::to_string(auth[i])).append("\n");
  family(out, "chatgate_tls_handshake_failures_total", "counter",
         "TLS handshakes that failed or timed out, by listener.");
  for (std::size_t i = 0; i < tls_handshake_failures.size(); ++i)
    out.append("chatgate_tls_handshake_failures_total{listener=\"")
        .append(to_label(static_cast<tls_listener>(i)))
        .append("\"} ").append(std::to_string(tls_handshake_failures[i])).append("\n");
}

void metrics::observe_commit(double seconds) {
  ++commits;
  commit_seconds += seconds;
  for (std::size_t i = 0; i < commit_buckets.size(); ++i)
    if (seconds <= commit_buckets[i]) {
      ++commit_counts[i];
      break;
    }
}

void metrics::render_cluster(std::string& out) const {
  family(out, "chatgate_node_info", "gauge", "This cluster node's id (--node-id).");
  out.append("chatgate_node_info{node=\"").append(node_id).append("\"} 1\n");
  family(out, "chatgate_redis_up", "gauge", "1 while both Redis connections (commands, subscription) are up.");
  out.append("chatgate_redis_up ").append(redis_up ? "1" : "0").append("\n");
  family(out, "chatgate_redis_resyncs_total", "counter",
         "Times the subscription was restored and rooms backfilled from Redis.");
  out.append("chatgate_redis_resyncs_total ").append(std::to_string(redis_resyncs)).append("\n");
}

void metrics::render_db(std::string& out) const {
  family(out, "chatgate_store_persisted_total", "counter", "Messages committed to the database.");
  out.append("chatgate_store_persisted_total ").append(std::to_string(persisted)).append("\n");
  family(out, "chatgate_store_db_bytes", "gauge", "Size of the database file and its WAL.");
  out.append("chatgate_store_db_bytes ").append(std::to_string(db_bytes)).append("\n");
  family(out, "chatgate_store_commit_seconds", "histogram",
         "Time from a batch's first message reaching the store to its commit.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < commit_buckets.size(); ++i) {
    cumulative += commit_counts[i];
    char le[32];
    std::snprintf(le, sizeof le, "%g", commit_buckets[i]);
    out.append("chatgate_store_commit_seconds_bucket{le=\"").append(le).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  out.append("chatgate_store_commit_seconds_bucket{le=\"+Inf\"} ").append(std::to_string(commits)).append("\n");
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6f", commit_seconds);
  out.append("chatgate_store_commit_seconds_sum ").append(sum).append("\n");
  out.append("chatgate_store_commit_seconds_count ").append(std::to_string(commits)).append("\n");
}

}  // namespace chatgate
