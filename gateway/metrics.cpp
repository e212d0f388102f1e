#include "gateway/metrics.hpp"

namespace chatgate {
namespace {

const char* to_string(drop_reason r) {
  switch (r) {
    case drop_reason::slow_consumer: return "slow_consumer";
    case drop_reason::udp_idle: return "udp_idle";
    case drop_reason::server_full: return "server_full";
    case drop_reason::frame_too_big: return "frame_too_big";
    case drop_reason::count: break;
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
  return out;
}

}  // namespace chatgate
