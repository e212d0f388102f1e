// The PROXY protocol v1 header a load balancer puts before a TCP stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatgate::protocol {

// "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222" (the line without its "\r\n")
// gives "1.2.3.4:1111" (IPv6 as "[::1]:1111"); "PROXY UNKNOWN ..." gives
// "unknown". Anything else, including a malformed header, gives nullopt.
std::optional<std::string> parse_proxy_v1(std::string_view line);

// The client address of an X-Forwarded-For value: its last entry (the one
// the trusted proxy added; earlier ones are the client's word), when that
// is an IPv4 or IPv6 address. Anything else gives nullopt.
std::optional<std::string> parse_forwarded_for(std::string_view header);

// Header bytes made safe for a log line: printable ASCII as is, a backslash
// and every other byte as \xNN; at most `max` input bytes, then "...".
std::string escape_for_log(std::string_view bytes, std::size_t max = 120);

}  // namespace chatgate::protocol
