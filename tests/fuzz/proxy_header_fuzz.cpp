// Any first line of a TCP connection as a PROXY v1 header, and any
// X-Forwarded-For value; what reaches a log is always printable ASCII.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/proxy_header.hpp"

namespace {

void check_printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto address = chatgate::protocol::parse_proxy_v1(bytes);
  if (address && address->size() > 64) __builtin_trap();
  if (address) check_printable(*address);
  if (const auto forwarded = chatgate::protocol::parse_forwarded_for(bytes)) {
    if (forwarded->size() > 45) __builtin_trap();
    check_printable(*forwarded);
  }
  const std::string logged = chatgate::protocol::escape_for_log(bytes);
  check_printable(logged);
  if (logged.size() > 4 * 120 + 3) __builtin_trap();
  return 0;
}
