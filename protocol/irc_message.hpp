// IRC message lines (modern.ircdocs.horse, IRCv3 message-tags): parsing and
// serialization. Pure: no sockets, no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatgate::protocol {

// RFC 1459/2812: a line is at most 512 bytes with its CRLF; IRCv3 adds up to
// 8191 bytes of tags (with the '@' and the space after them).
inline constexpr std::size_t irc_max_body = 512;
inline constexpr std::size_t irc_max_tags = 8191;
// What a reader must accept before it can tell a line is too long.
inline constexpr std::size_t irc_max_line = irc_max_body + irc_max_tags;

struct irc_message {
  std::vector<std::pair<std::string, std::string>> tags;  // unescaped values
  std::string source;                                     // without the ':'
  std::string command;                                    // as sent (numerics too)
  std::vector<std::string> params;                        // the trailing one last
  // Write the last param with ':' even when it does not need it (free
  // text: PRIVMSG, numerics), as servers do; set by the parser when seen.
  bool trailing = false;

  const std::string* tag(std::string_view key) const;
};

enum class irc_parse_status { ok, empty, tags_too_long, body_too_long, no_command };

struct irc_parse_result {
  irc_parse_status status = irc_parse_status::empty;
  irc_message message;
};

// One line without its CR LF (a stray final '\r' is dropped too). Commands
// are returned upper-cased; empty lines are `empty` (ignored by servers).
// A body over 510 bytes (512 with CRLF) is `body_too_long`; tags over 8191
// bytes are `tags_too_long`. NUL bytes end nothing: they are kept in params.
irc_parse_result parse_irc(std::string_view line);

// Tag value escaping (IRCv3 message-tags): ';' -> "\:", ' ' -> "\s",
// '\' -> "\\", CR -> "\r", LF -> "\n"; unescape drops a lone trailing '\'
// and an unknown escape keeps the character.
std::string escape_tag_value(std::string_view raw);
std::string unescape_tag_value(std::string_view escaped);

// The line with its CRLF. The last param is written as a trailing (':')
// when it is empty, has a space or starts with ':'.
std::string serialize_irc(const irc_message& m);

// Cuts `text` into pieces of at most `max` bytes without splitting a UTF-8
// sequence (a long chat message becomes several PRIVMSGs).
std::vector<std::string_view> split_utf8(std::string_view text, std::size_t max);

}  // namespace chatgate::protocol
