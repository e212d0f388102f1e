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
    if (!reserved(nick) && claim(nick)) return nick;
  }
}

void nick_registry::reserve(std::string_view nick) { reserved_.insert(protocol::fold_nick(nick)); }

bool nick_registry::reserved(std::string_view nick) const {
  return reserved_.count(protocol::fold_nick(nick)) != 0;
}

}  // namespace chatgate
