#include "gateway/nick_registry.hpp"

#include "protocol/names.hpp"

namespace chatgate {

bool nick_registry::claim(std::string_view nick) {
  return folded_.insert(protocol::fold_nick(nick)).second;
}

void nick_registry::release(std::string_view nick) { folded_.erase(protocol::fold_nick(nick)); }

bool nick_registry::taken(std::string_view nick) const {
  return folded_.count(protocol::fold_nick(nick)) != 0;
}

std::string nick_registry::claim_guest() {
  for (;;) {
    std::string nick = "guest-" + std::to_string(next_guest_++);
    if (claim(nick)) return nick;
  }
}

}  // namespace chatgate
