// HS256 JSON Web Tokens (RFC 7519), verification only (SPEC 13). Pure: no
// sockets, no clock of its own; the caller passes the time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatgate::protocol {

// Tokens slightly early or late still count, for clocks that disagree a little.
inline constexpr std::int64_t token_clock_skew_s = 30;
// Longer tokens are refused before any decoding.
inline constexpr std::size_t max_token_bytes = 4096;

struct token_claims {
  std::string sub;  // a valid nick
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
};

struct token_result {
  std::optional<token_claims> claims;  // set when the token is good
  std::string reason;                  // why not, in words, otherwise
};

// Checks the form, that `alg` is HS256 (anything else, `none` included, is
// refused), the signature (constant-time), `exp` and `nbf` against
// `now_s` (Unix seconds) with token_clock_skew_s, and that `sub` is a nick.
token_result verify_token(std::string_view token, std::string_view secret, std::int64_t now_s);

// base64url without padding; nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);

// HMAC-SHA256 of `data` as a raw 32-byte string (for tests and tools).
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace chatgate::protocol
