#include "client/conversation.hpp"

#include <cctype>

namespace chatgate::client {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
  return true;
}

}  // namespace

std::optional<conversation_command> parse_conversation_command(std::string_view line) {
  if (line.size() < 2 || line.front() != '/' || line[1] == '/') return std::nullopt;
  std::string_view rest = line.substr(1);
  std::size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  const std::string_view name = rest.substr(0, end);
  rest.remove_prefix(end);
  conversation_command c;
  if (iequals(name, "msg")) {
    // The text is kept as typed after the one space that ends the nick.
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    std::size_t nick_end = 0;
    while (nick_end < rest.size() && !is_space(rest[nick_end])) ++nick_end;
    c.what = conversation_command::kind::msg;
    c.nick = std::string(rest.substr(0, nick_end));
    std::string_view text = rest.substr(nick_end);
    if (!text.empty()) text.remove_prefix(1);
    c.text = std::string(text);
    if (c.nick.empty() || trim(text).empty()) c.usage_error = "usage: /msg NICK TEXT";
    return c;
  }
  const std::string_view arg = trim(rest);
  if (iequals(name, "topic")) {
    c.what = conversation_command::kind::topic;
    c.set = !arg.empty();
    c.text = std::string(arg);
    return c;
  }
  if (iequals(name, "leave") || iequals(name, "part")) {
    c.what = conversation_command::kind::leave;
    c.room = std::string(arg);
    return c;
  }
  return std::nullopt;
}

}  // namespace chatgate::client
