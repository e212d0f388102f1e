// Any bytes as a WebSocket frame or NDJSON line, and the answer encoded back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/event.hpp"
#include "protocol/json_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto request = chatgate::protocol::parse_json_request(frame);
  if (const auto* bad = std::get_if<chatgate::protocol::req::invalid>(&request.body)) {
    // The error must encode, with whatever ref came in.
    const std::string out = chatgate::protocol::encode_json(
        chatgate::protocol::ev::error{bad->code, bad->message}, request.ref);
    if (out.empty() || out.back() != '\n') __builtin_trap();
  }
  return 0;
}
