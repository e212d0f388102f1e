// Parses one line of the text protocol (SPEC section 3) into a request.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocol/request.hpp"

namespace chatgate::protocol {

// A line that does not start with '/' is a message to the current room
// ("//text" sends "/text"). Command names are case-insensitive. The line
// must not contain its '\n'. Empty lines give std::nullopt: nothing to do.
std::optional<request> parse_text_line(std::string_view line);

// Room for the command in front of a text message (`/me `, `/msg NICK `), so
// that --max-message-bytes applies to the text itself: a text line may be
// this much longer than a message before the framer calls it too long.
inline constexpr std::size_t command_slack = 64;

// The lines `/help` answers with, without their "* " prefix.
const char* const* help_lines();

}  // namespace chatgate::protocol
