// `--redis` URLs (SPEC 11): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatgate::redis {

struct url {
  std::string host;  // a name or an address; IPv6 without its brackets
  std::uint16_t port = 6379;
  std::string user;      // Redis 6 ACL user; empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT on (re)connect when not 0

  // host:port/db, never the password (for logs).
  std::string redacted() const;
};

// The URL, or nullopt with `error` saying what is wrong with it.
std::optional<url> parse_url(std::string_view text, std::string& error);

}  // namespace chatgate::redis
