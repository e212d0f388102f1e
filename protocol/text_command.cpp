#include "protocol/text_command.hpp"

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
  const std::string_view arg = trim(rest);
  const bool has_arg = !arg.empty();
  if (iequals(name, "nick"))
    return has_arg ? request{req::nick{std::string(arg)}, nullptr} : invalid("usage: /nick NAME");
  if (iequals(name, "join"))
    return has_arg ? request{req::join{std::string(arg), std::nullopt}, nullptr}
                   : invalid("usage: /join ROOM");
  if (iequals(name, "rooms")) return request{req::rooms{}, nullptr};
  if (iequals(name, "who")) return request{req::who{}, nullptr};
  if (iequals(name, "help")) return request{req::help{}, nullptr};
  if (iequals(name, "quit")) return request{req::quit{}, nullptr};
  if (iequals(name, "json")) return request{req::json_mode{}, nullptr};
  return invalid("unknown command: /" + std::string(name) + " (try /help)");
}

const char* const* help_lines() {
  static const char* const lines[] = {
      "commands:",
      "/nick NAME   change your nick",
      "/join ROOM   leave this room and join ROOM (its recent messages follow)",
      "/rooms       list the rooms and their member counts",
      "/who         list the members of this room and how they are connected",
      "/me TEXT     send an action",
      "/json        switch this connection to NDJSON (TCP only)",
      "/ok CODE     UDP only: prove your address, with the code sent after the welcome",
      "/help        this list",
      "/quit        leave",
      "anything else is a message to your room; start it with // to send a leading /",
      nullptr,
  };
  return lines;
}

}  // namespace chatgate::protocol
