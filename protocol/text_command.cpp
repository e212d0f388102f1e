#include "protocol/text_command.hpp"

#include <algorithm>
#include <cctype>

namespace chatgate::protocol {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

request invalid(std::string message) {
  return request{req::invalid{error_code::bad_request, std::move(message)}, nullptr};
}

}  // namespace

std::optional<request> parse_text_line(std::string_view line) {
  if (line.empty()) return std::nullopt;
  if (line.front() != '/' || line.substr(0, 2) == "//") {
    if (line.front() == '/') line.remove_prefix(1);
    return request{req::say{{}, std::string(line), false}, nullptr};
  }
  std::string_view rest = line.substr(1);
  std::size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  const std::string_view name = rest.substr(0, end);
  rest.remove_prefix(end);
  // `/me` keeps its text as typed, except the one space after the command.
  if (iequals(name, "me")) {
    if (!rest.empty()) rest.remove_prefix(1);
    if (trim(rest).empty()) return invalid("usage: /me TEXT");
    return request{req::say{{}, std::string(rest), true}, nullptr};
  }
  // `/msg NICK TEXT`: the text is kept as typed after the one space that
  // ends the nick, like `/me`.
  if (iequals(name, "msg")) {
    rest = rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t")));
    std::size_t nick_end = 0;
    while (nick_end < rest.size() && !is_space(rest[nick_end])) ++nick_end;
    const std::string_view to = rest.substr(0, nick_end);
    std::string_view text = rest.substr(nick_end);
    if (!text.empty()) text.remove_prefix(1);
    if (to.empty() || trim(text).empty()) return invalid("usage: /msg NICK TEXT");
    return request{req::say{{}, std::string(text), false, std::string(to)}, nullptr};
  }
  const std::string_view arg = trim(rest);
  const bool has_arg = !arg.empty();
  if (iequals(name, "nick"))
    return has_arg ? request{req::nick{std::string(arg)}, nullptr} : invalid("usage: /nick NAME");
  if (iequals(name, "join"))
    return has_arg ? request{req::join{std::string(arg), std::nullopt}, nullptr}
                   : invalid("usage: /join ROOM");
  if (iequals(name, "topic")) {
    std::optional<std::string> topic;
    if (has_arg) topic = std::string(arg);
    return request{req::topic{{}, std::move(topic)}, nullptr};
  }
  // An optional room name must be the current room; the hub checks it.
  if (iequals(name, "leave") || iequals(name, "part"))
    return request{req::leave{std::string(arg)}, nullptr};
  if (iequals(name, "rooms")) return request{req::rooms{}, nullptr};
  if (iequals(name, "who")) return request{req::who{}, nullptr};
  if (iequals(name, "help")) return request{req::help{}, nullptr};
  if (iequals(name, "quit")) return request{req::quit{}, nullptr};
  if (iequals(name, "json")) return request{req::json_mode{}, nullptr};
  if (iequals(name, "auth"))
    return has_arg ? request{req::auth{std::string(arg)}, nullptr} : invalid("usage: /auth TOKEN");
  return invalid("unknown command: /" + std::string(name) + " (try /help)");
}

const char* const* help_lines() {
  static const char* const lines[] = {
      "commands:",
      "/nick NAME       change your nick",
      "/join ROOM       leave this room and join ROOM (its topic and recent messages follow)",
      "/leave           go back to the default room (also /part)",
      "/msg NICK TEXT   send TEXT to NICK alone; they see *YOURNICK* TEXT",
      "/topic           show the topic of this room",
      "/topic TEXT      set the topic of this room",
      "/rooms           list the rooms and their member counts",
      "/who             list the members of this room and how they are connected",
      "/me TEXT         send an action",
      "/ok CODE         UDP only: prove your address, with the code sent after the welcome",
      "/json            switch this connection to NDJSON (TCP only)",
      "/auth TOKEN      prove who you are with a token; its nick becomes yours",
      "/help            this list",
      "/quit            leave",
      "anything else is a message to your room; start it with // to send a leading /",
      nullptr,
  };
  return lines;
}

}  // namespace chatgate::protocol
