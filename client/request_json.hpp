// A typed command ("/join dev", "hello") as a JSON request for the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/request.hpp"

namespace chatgate::client {

// The request as one JSON object (no '\n') carrying `ref`; `room` is used
// where the text command names none (say, who). nullopt for what the client
// answers itself (help, quit, /json, an invalid command).
std::optional<std::string> encode_request(const protocol::request_body& body, const std::string& room,
                                          std::uint64_t ref);

}  // namespace chatgate::client
