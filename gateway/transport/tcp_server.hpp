// TCP chat: text lines (SPEC 3), or NDJSON after `/json` or a first '{' (SPEC 4).
#pragma once

#include <string_view>

#include "gateway/transport/stream_listener.hpp"

namespace chatgate {

class tcp_session;

struct tcp_chat_listener {
  using session = tcp_session;
  static constexpr listener_names plain{"tcp chat", "--tcp-port"};
  static constexpr listener_names tls{"tls tcp chat", "--tls-tcp-port"};
  static constexpr tls_listener tls_kind = tls_listener::tls_tcp;
  static constexpr std::string_view server_full = "! server full\n";
};

using tcp_server = stream_listener<tcp_chat_listener>;
// Made once, in tcp_server.cpp, where tcp_session is known.
extern template class stream_listener<tcp_chat_listener>;

}  // namespace chatgate
