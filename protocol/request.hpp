// What a client asks for, whichever transport and wire format it used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace chatgate::protocol {

enum class error_code : std::uint8_t {
  bad_request,
  bad_room,
  bad_nick,
  nick_taken,
  not_in_room,
  too_long,
  rate_limited,
  unavailable,   // the store or the cluster cannot take it now (SPEC 10, 11)
  no_such_nick,  // a direct message to nobody (SPEC 12)
  bad_token,     // SPEC 13
};

const char* to_string(error_code code);

// The client's `ref`, echoed on direct answers; null when absent.
using ref_value = nlohmann::ordered_json;

namespace req {
struct join { std::string room; std::optional<std::uint64_t> since; };
// From a text client (`/leave`, `/part`) the room may be empty: its current room.
struct leave { std::string room; };
// An empty room means "the text client's current room". A non-empty `to`
// makes it a direct message to that nick instead (SPEC 12); room is unused.
struct say { std::string room; std::string text; bool me = false; std::string to{}; };
struct nick { std::string nick; };
struct rooms {};
// limit: at most this many members in the answer, which then says the
// room's size in `count` (0: all, exact).
struct who { std::string room; std::size_t limit = 0; };
// Without `topic` it asks for the room's topic; with it, sets it ("" clears).
// An empty room means "the text client's current room".
struct topic { std::string room; std::optional<std::string> topic; };
struct help {};
struct quit {};
struct json_mode {};
// Present a token (SPEC 13): text `/auth JWT`, JSON `auth` with `token`.
struct auth { std::string token; };
// Input that could not be understood; answered with an error.
struct invalid { error_code code; std::string message; };
}  // namespace req

using request_body = std::variant<req::join, req::leave, req::say, req::nick, req::rooms,
                                  req::who, req::help, req::quit, req::json_mode, req::invalid,
                                  req::topic, req::auth>;

struct request {
  request_body body;
  ref_value ref;
};

}  // namespace chatgate::protocol
