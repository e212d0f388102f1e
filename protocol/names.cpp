#include "protocol/names.hpp"

namespace chatgate::protocol {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::optional<std::string> normalize_room(std::string_view raw) {
  if (!raw.empty() && raw.front() == '#') raw.remove_prefix(1);
  if (raw.empty() || raw.size() > max_room_length) return std::nullopt;
  std::string room;
  room.reserve(raw.size());
  for (char c : raw) {
    c = ascii_lower(c);
    if (!is_name_char(c)) return std::nullopt;
    room.push_back(c);
  }
  return room;
}

bool is_valid_nick(std::string_view nick) {
  if (nick.empty() || nick.size() > max_nick_length) return false;
  for (char c : nick)
    if (!is_name_char(ascii_lower(c))) return false;
  return true;
}

std::string fold_nick(std::string_view nick) {
  std::string folded(nick);
  for (char& c : folded) c = ascii_lower(c);
  return folded;
}

}  // namespace chatgate::protocol
