// Any string presented as a token (`/auth`, JSON `auth`, `?token=`).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/jwt.hpp"
#include "protocol/names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto result = chatgate::protocol::verify_token(token, "fuzz-secret", 1700000000);
  // A random input must never pass; if it does, it carries a valid nick.
  if (result.claims && !chatgate::protocol::is_valid_nick(result.claims->sub)) __builtin_trap();
  if (!result.claims && result.reason.empty()) __builtin_trap();
  const auto decoded = chatgate::protocol::base64url_decode(token);
  if (decoded && chatgate::protocol::base64url_encode(*decoded) != token) __builtin_trap();
  return 0;
}
