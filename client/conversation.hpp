// The conversation commands of SPEC 12 as the client reads them from typed
// lines: /msg NICK TEXT, /topic [TEXT], /leave [ROOM] (or /part). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatgate::client {

struct conversation_command {
  enum class kind { msg, topic, leave };
  kind what = kind::msg;
  std::string nick;        // msg: the recipient
  std::string text;        // msg: the text as typed; topic: the new topic
  bool set = false;        // topic: set it (else show it)
  std::string room;        // leave: the room named, if any
  std::string usage_error; // not empty: the line is malformed, say this
};

// nullopt when the line is not one of these commands (names are
// case-insensitive, as the server's are).
std::optional<conversation_command> parse_conversation_command(std::string_view line);

}  // namespace chatgate::client
