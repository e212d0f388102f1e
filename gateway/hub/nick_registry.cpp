#include "gateway/hub/nick_registry.hpp"

#include <charconv>

#include "protocol/names.hpp"

namespace chatgate {
namespace {

// "guest-12" -> 12; anything else (including "guest-012") -> 0.
std::uint64_t guest_number(std::string_view folded) {
  constexpr std::string_view prefix = "guest-";
  if (folded.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view digits = folded.substr(prefix.size());
  if (digits.empty() || digits.front() == '0') return 0;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && end == digits.data() + digits.size() ? n : 0;
}

}  // namespace

bool nick_registry::claim(std::string_view nick, void* owner) {
  return folded_.emplace(protocol::fold_nick(nick), owner).second;
}

void* nick_registry::owner(std::string_view nick) const {
  auto it = folded_.find(protocol::fold_nick(nick));
  return it == folded_.end() ? nullptr : it->second;
}

void nick_registry::set_owner(std::string_view nick, void* owner) {
  auto it = folded_.find(protocol::fold_nick(nick));
  if (it != folded_.end()) it->second = owner;
}

void nick_registry::release(std::string_view nick) {
  const std::string folded = protocol::fold_nick(nick);
  if (folded_.erase(folded) == 0) return;
  // A guest number below the counter comes free again, whoever held it (a
  // guest, or someone who took the name with /nick).
  const std::uint64_t n = guest_number(folded);
  if (n != 0 && n < next_guest_) free_guests_.insert(n);
}

bool nick_registry::taken(std::string_view nick) const {
  return folded_.count(protocol::fold_nick(nick)) != 0;
}

std::string nick_registry::claim_guest() {
  // A freed number may have been taken with /nick since: it comes back
  // when that one is released.
  while (!free_guests_.empty()) {
    const std::uint64_t n = *free_guests_.begin();
    free_guests_.erase(free_guests_.begin());
    std::string nick = "guest-" + std::to_string(n);
    if (!reserved(nick) && claim(nick)) return nick;
  }
  for (;;) {
    std::string nick = "guest-" + std::to_string(next_guest_++);
    if (!reserved(nick) && claim(nick)) return nick;
  }
}

bool nick_registry::reserve(std::string_view nick) { return reserved_.insert(protocol::fold_nick(nick)).second; }

bool nick_registry::reserved(std::string_view nick) const {
  return reserved_.count(protocol::fold_nick(nick)) != 0;
}

}  // namespace chatgate
