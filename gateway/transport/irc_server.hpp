// IRC (SPEC 14): chatgate's rooms as channels.
#pragma once

#include <string_view>

#include "gateway/transport/stream_listener.hpp"

namespace chatgate {

class irc_session;

struct irc_listener {
  using session = irc_session;
  static constexpr listener_names plain{"irc", "--irc-port"};
  static constexpr listener_names tls{"irc over tls", "--irc-tls-port"};
  static constexpr tls_listener tls_kind = tls_listener::irc_tls;
  static constexpr std::string_view server_full = "ERROR :Closing link: server full\r\n";
};

using irc_server = stream_listener<irc_listener>;
// Made once, in irc_server.cpp, where irc_session is known.
extern template class stream_listener<irc_listener>;

}  // namespace chatgate
