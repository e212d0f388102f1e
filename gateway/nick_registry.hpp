// Nicks in use, unique across all transports, compared case-insensitively.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace chatgate {

class nick_registry {
 public:
  // False when someone already has it (in any letter case).
  bool claim(std::string_view nick);
  void release(std::string_view nick);
  bool taken(std::string_view nick) const;
  // Claims and returns a free "guest-N" (never a reserved one).
  std::string claim_guest();

  // SPEC 13: a nick a token proved is someone's stays theirs, online or
  // not. In memory for now; --db and Redis hook in here.
  void reserve(std::string_view nick);
  bool reserved(std::string_view nick) const;

 private:
  std::unordered_set<std::string> folded_;
  std::unordered_set<std::string> reserved_;
  std::uint64_t next_guest_ = 1;
};

}  // namespace chatgate
