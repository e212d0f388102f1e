// Nicks in use, unique across all transports, compared case-insensitively.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace chatgate {

class nick_registry {
 public:
  // False when someone already has it (in any letter case). `owner`: who
  // holds it (the hub's client), found again with owner().
  bool claim(std::string_view nick, void* owner = nullptr);
  void release(std::string_view nick);
  bool taken(std::string_view nick) const;
  // Who holds `nick` (any letter case); null when nobody, or when it was
  // claimed without an owner.
  void* owner(std::string_view nick) const;
  // `nick` must be claimed.
  void set_owner(std::string_view nick, void* owner);
  // Claims and returns the free "guest-N" with the lowest N, so numbers
  // stay as small as the number of guests at once (never a reserved one).
  std::string claim_guest();

  // SPEC 13: a nick a token proved is someone's stays theirs, online or
  // not. True when it was not reserved before (the store keeps it then).
  bool reserve(std::string_view nick);
  bool reserved(std::string_view nick) const;

 private:
  // Folded nick -> owner: one table for "taken" and "who has it", so a
  // client costs one node here, not one here and one in the hub.
  std::unordered_map<std::string, void*> folded_;
  std::unordered_set<std::string> reserved_;
  // Every guest number below next_guest_ is in use or in free_guests_
  // (at most one entry per number ever handed out: bounded by the peak).
  std::set<std::uint64_t> free_guests_;
  std::uint64_t next_guest_ = 1;
};

}  // namespace chatgate
