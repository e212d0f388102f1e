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

}  // namespace chatgate::protocol
