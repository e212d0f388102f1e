// Any line through the IRC parser; what parses must survive serialize ->
// parse unchanged (round trip); split_utf8 never exceeds its cap.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/irc_message.hpp"

using namespace chatgate::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  irc_parse_result r = parse_irc(line);
  if (r.status != irc_parse_status::ok) return 0;
  if (r.message.command.empty()) __builtin_trap();
  // Params that cannot be written back (a space or ':' leading a middle
  // param cannot come out of the parser); round-trip what came in.
  const std::string again = serialize_irc(r.message);
  if (again.size() < 2 || again.substr(again.size() - 2) != "\r\n") __builtin_trap();
  if (line.find_first_of("\r\n") != std::string_view::npos) return 0;
  irc_parse_result r2 = parse_irc(again);
  if (r2.status != irc_parse_status::ok) return 0;  // a tag key may make it longer
  if (r2.message.command != r.message.command || r2.message.params != r.message.params ||
      r2.message.source != r.message.source)
    __builtin_trap();
  for (std::string_view piece : split_utf8(line, 37))
    if (piece.size() > 37) __builtin_trap();
  return 0;
}
