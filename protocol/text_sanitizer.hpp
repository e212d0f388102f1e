// Makes any received bytes safe to show: valid UTF-8, one line (SPEC section 2).
#pragma once

#include <string>
#include <string_view>

namespace chatgate::protocol {

// Replaces each maximal invalid UTF-8 subsequence with U+FFFD and removes
// control characters (C0 except tab, DEL, C1), so the result is always valid
// UTF-8 on a single line.
std::string sanitize_text(std::string_view bytes);

// Whether `bytes` is valid UTF-8 as sanitize_text reads it (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), which is also
// what nlohmann accepts.
bool valid_utf8(std::string_view bytes);

}  // namespace chatgate::protocol
