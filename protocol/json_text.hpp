// JSON text written by hand where a JSON document would cost more than the
// message it carries (the per-message paths: sealing a message, the
// cluster's payloads). Byte for byte what nlohmann's dump(-1, ' ', false)
// writes, so either can write what the other reads or compares.
#pragma once

#include <string>
#include <string_view>

namespace chatgate::protocol {

// Appends `s` as a JSON string. Only for valid UTF-8 (check first with
// valid_utf8 from text_sanitizer.hpp: for anything else nlohmann's
// replacement rules apply, let it write).
void append_json_string(std::string& out, std::string_view s);

}  // namespace chatgate::protocol
