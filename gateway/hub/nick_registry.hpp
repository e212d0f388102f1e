// Nicks in use, unique across all transports, compared case-insensitively.
#pragma once

#include <cstdint>
#include <set>
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
  // Claims and returns the free "guest-N" with the lowest N, so numbers
  // stay as small as the number of guests at once (never a reserved one).
  std::string claim_guest();

  // SPEC 13: a nick a token proved is someone's stays theirs, online or
  // not. True when it was not reserved before (the store keeps it then).
  bool reserve(std::string_view nick);
  bool reserved(std::string_view nick) const;

 private:
  std::unordered_set<std::string> folded_;
  std::unordered_set<std::string> reserved_;
  // Every guest number below next_guest_ is in use or in free_guests_
  // (at most one entry per number ever handed out: bounded by the peak).
  std::set<std::uint64_t> free_guests_;
  std::uint64_t next_guest_ = 1;
};

}  // namespace chatgate
