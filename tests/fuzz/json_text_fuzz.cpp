// The hand-written JSON string writer against nlohmann, differentially:
// valid_utf8 says yes exactly when nlohmann can dump the bytes, and then
// append_json_string writes the same bytes nlohmann does.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/json_text.hpp"
#include "protocol/text_sanitizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string reference;
  bool dumpable = true;
  try {
    reference = nlohmann::json(bytes).dump();
  } catch (const nlohmann::json::type_error&) {  // 316: invalid UTF-8
    dumpable = false;
  }
  if (chatgate::protocol::valid_utf8(bytes) != dumpable) __builtin_trap();
  if (!dumpable) return 0;
  std::string ours;
  chatgate::protocol::append_json_string(ours, bytes);
  if (ours != reference) __builtin_trap();
  return 0;
}
