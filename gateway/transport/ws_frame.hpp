// WebSocket frames the server sends (RFC 6455 5.2), built with websocketpp's
// frame helpers; only ws_session.cpp includes websocketpp itself.
#pragma once

#include <string>
#include <string_view>

namespace chatgate {

// One unmasked, final text frame carrying `json` without a trailing '\n'.
std::string ws_text_frame(std::string_view json);

}  // namespace chatgate
