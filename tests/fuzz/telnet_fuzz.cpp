// Any bytes through the telnet decoder and the TCP text path after it, in
// pieces the input chooses: what comes out must not depend on how the
// stream was split, replies are well-formed refusals or WILL TIMING-MARK,
// and no line is over the cap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/line_framer.hpp"
#include "protocol/telnet.hpp"
#include "protocol/text_command.hpp"
#include "protocol/text_sanitizer.hpp"

namespace {

namespace p = chatgate::protocol;
constexpr std::size_t max_line = 64;

struct output {
  std::string lines;    // each line, then '\n'
  std::string replies;
};

void check_reply(std::string_view r) {
  if (r.size() != 3 || static_cast<unsigned char>(r[0]) != p::telnet::iac) __builtin_trap();
  const auto verb = static_cast<unsigned char>(r[1]);
  const auto option = static_cast<unsigned char>(r[2]);
  const bool ok = verb == p::telnet::dont || verb == p::telnet::wont ||
                  (verb == p::telnet::will && option == p::telnet::timing_mark);
  if (!ok) __builtin_trap();
}

// Feeds `bytes` in pieces whose sizes come from `sizes` (cycled).
output run(std::string_view bytes, std::string_view sizes) {
  output out;
  p::telnet_decoder telnet;
  p::line_framer framer(max_line);
  auto on_line = [&](std::string_view line) {
    if (line.size() > max_line) __builtin_trap();
    out.lines.append(line).push_back('\n');
    if (auto request = p::parse_text_line(line)) {
      if (auto* say = std::get_if<p::req::say>(&request->body)) {
        const std::string clean = p::sanitize_text(say->text);
        for (char c : clean)
          if (c == '\n' || c == '\r') __builtin_trap();
      }
    }
    return true;
  };
  std::size_t turn = 0;
  while (!bytes.empty()) {
    std::size_t n = sizes.empty() ? bytes.size() : 1 + static_cast<unsigned char>(sizes[turn++ % sizes.size()]) % 16;
    const std::string_view piece = bytes.substr(0, n);
    bytes.remove_prefix(piece.size());
    telnet.feed(
        piece,
        [&](std::string_view data) {
          framer.feed(data, on_line, [&] { out.lines.append("<too long>\n"); return true; });
          return true;
        },
        [&](std::string_view reply) {
          check_reply(reply);
          out.replies.append(reply);
        });
  }
  framer.flush(on_line);
  if (framer.buffered() > max_line) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte says how many of the following bytes choose piece sizes.
  if (size == 0) return 0;
  const std::size_t split = std::min<std::size_t>(data[0] % 8, size - 1);
  const std::string_view sizes(reinterpret_cast<const char*>(data) + 1, split);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1 + split, size - 1 - split);
  const output whole = run(bytes, {});
  const output pieces = run(bytes, sizes);
  if (whole.lines != pieces.lines || whole.replies != pieces.replies) __builtin_trap();
  // Bytes without IAC pass through untouched.
  if (bytes.find('\xff') == std::string_view::npos && !whole.replies.empty()) __builtin_trap();
  return 0;
}
