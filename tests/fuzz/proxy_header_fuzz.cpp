// Any first line of a TCP connection as a PROXY v1 header.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/proxy_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto address = chatgate::protocol::parse_proxy_v1(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (address && address->size() > 64) __builtin_trap();
  return 0;
}
