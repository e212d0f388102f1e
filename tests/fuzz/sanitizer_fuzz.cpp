// UTF-8 repair: the output is valid, one line, and repair is idempotent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/text_sanitizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string once = chatgate::protocol::sanitize_text(bytes);
  if (chatgate::protocol::sanitize_text(once) != once) __builtin_trap();
  if (once.find_first_of("\r\n") != std::string::npos) __builtin_trap();
  if (once.size() > size * 3) __builtin_trap();
  return 0;
}
