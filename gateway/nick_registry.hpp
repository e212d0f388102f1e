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
  // Claims and returns a free "guest-N".
  std::string claim_guest();

 private:
  std::unordered_set<std::string> folded_;
  std::uint64_t next_guest_ = 1;
};

}  // namespace chatgate
