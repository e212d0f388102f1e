// Any bytes through the TCP text path: framer, command parser, sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/line_framer.hpp"
#include "protocol/text_command.hpp"
#include "protocol/text_sanitizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  chatgate::protocol::line_framer framer(64);
  auto on_line = [](std::string_view line) {
    if (line.size() > 64) __builtin_trap();
    if (auto request = chatgate::protocol::parse_text_line(line)) {
      if (auto* say = std::get_if<chatgate::protocol::req::say>(&request->body)) {
        const std::string clean = chatgate::protocol::sanitize_text(say->text);
        for (char c : clean)
          if (c == '\n' || c == '\r') __builtin_trap();
      }
    }
    return true;
  };
  // Feed in two pieces so lines also cross a read boundary.
  framer.feed(bytes.substr(0, size / 2), on_line, [] { return true; });
  framer.feed(bytes.substr(size / 2), on_line, [] { return true; });
  framer.flush(on_line);
  if (framer.buffered() > 64) __builtin_trap();
  return 0;
}
