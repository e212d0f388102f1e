// Room and nick rules (SPEC section 2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatgate::protocol {

inline constexpr std::size_t max_room_length = 32;
inline constexpr std::size_t max_nick_length = 24;

// Lower-cases, strips one leading '#', and checks 1-32 chars of [a-z0-9_-].
std::optional<std::string> normalize_room(std::string_view raw);

// 1-24 chars of [A-Za-z0-9_-].
bool is_valid_nick(std::string_view nick);

// The form nicks are compared in: unique case-insensitively.
std::string fold_nick(std::string_view nick);

}  // namespace chatgate::protocol
