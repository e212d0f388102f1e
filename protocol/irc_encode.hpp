// Events as IRC lines (SPEC 14): a pure function, used by the hub's
// outbound path so a broadcast is encoded once per IRC wire format.
#pragma once

#include <string>

#include "protocol/event.hpp"

namespace chatgate::protocol {

// What an IRC session puts in a request's `ref` so the answer can be
// written as IRC: {"irc": kind, "me": nick, "target": what was named}.
// kind: "join", "names", "who", "topic", "list", "say", "nick" (or absent).
// Events without a ref are the shared broadcast forms.
ref_value irc_ref(const std::string& kind, const std::string& me, const std::string& target = {});

// Zero or more CRLF-terminated lines, each at most 512 bytes without tags.
// `tagged`: the client negotiated server-time, so chat messages carry
// `@time=`.
std::string encode_irc(const event& e, const ref_value& ref, bool tagged);

// "alice!ws@chatgate": how a chatgate user appears on IRC.
std::string irc_mask(const std::string& nick, via source);
// 2026-12-01T04:21:00.123Z
std::string irc_time(std::int64_t ts_ms);

extern const char* const irc_server_name;  // "chatgate"

}  // namespace chatgate::protocol
