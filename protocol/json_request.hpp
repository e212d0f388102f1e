// Parses one JSON request (a WebSocket text frame or an NDJSON line).
#pragma once

#include <string_view>

#include "protocol/request.hpp"

namespace chatgate::protocol {

// Never throws: anything that is not a well-formed request becomes a
// req::invalid with code bad_request (the ref is kept when it can be read).
request parse_json_request(std::string_view frame);

}  // namespace chatgate::protocol
