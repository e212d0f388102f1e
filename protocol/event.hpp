// What the server tells clients, and its two wire encodings (SPEC 3 and 4).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/request.hpp"

namespace chatgate::protocol {

enum class via : std::uint8_t { ws, tcp, udp, echo, irc };
inline constexpr std::size_t via_count = 5;
const char* to_string(via v);

struct chat_message {
  std::string room;
  std::string from;
  via source = via::ws;
  std::string text;
  std::uint64_t id = 0;
  std::int64_t ts = 0;
  bool me = false;
  // A direct message (SPEC 12): the recipient's nick; then room is empty and
  // id is 0 (direct messages are not numbered or stored).
  std::string to{};
};

// What a room's history keeps: the message alone, no encodings (SPEC 9: a
// stored message costs at most its text plus 512 bytes).
using stored_ptr = std::shared_ptr<const chat_message>;

// A chat message with its wire encodings, made once and shared by every
// recipient while it is in flight. History shares `msg` and drops the
// encodings; a replay encodes again.
struct sealed_message {
  explicit sealed_message(chat_message m);
  explicit sealed_message(stored_ptr m);
  stored_ptr msg;
  std::string json;  // {"type":"message",...} and its '\n'
  std::string text;  // "[room] nick: text\n", or "*nick* text\n" when direct
};
using message_ptr = std::shared_ptr<const sealed_message>;

namespace ev {
// presence_limit: rooms above this many members do not announce each join
// and leave (docs/protocol.md); 0: every room does. Additive field.
struct welcome { std::string nick; std::vector<std::string> rooms; std::size_t presence_limit = 0; };
struct message { message_ptr msg; };
struct history { std::string room; std::vector<stored_ptr> messages; };
struct joined { std::string room; std::string nick; via source; };
struct left { std::string room; std::string nick; via source; };
struct nick { std::string old_nick; std::string nick; };
struct room_info { std::string room; std::size_t members = 0; std::string topic{}; };
struct rooms { std::vector<room_info> rooms; };
// count: set when the request had a `limit` (the room's size; members may
// then be the first `limit` only).
struct who { std::string room; std::vector<std::pair<std::string, via>> members; std::optional<std::size_t> count{}; };
// A room above the presence limit: its size, and the joins and leaves since
// the last one (not announced one by one). JSON only.
struct presence { std::string room; std::size_t members = 0; std::size_t joined = 0; std::size_t left = 0; };
struct error { error_code code; std::string message; };
// A room's topic; an empty topic means none is set (by is then who cleared
// it, or "" with ts 0 when there never was one).
struct topic { std::string room; std::string topic; std::string by; std::int64_t ts = 0; };
// Text-protocol-only lines ("* ..."); JSON clients get nothing.
struct notice { std::vector<std::string> lines; };
// The server is closing this connection (quit, shutdown).
struct bye { std::string message; };
}  // namespace ev

using event = std::variant<ev::welcome, ev::message, ev::history, ev::joined, ev::left,
                           ev::nick, ev::rooms, ev::who, ev::error, ev::notice, ev::bye,
                           ev::topic, ev::presence>;

// One JSON object and its '\n', or "" when JSON clients get nothing. A
// non-null ref is added as "ref".
std::string encode_json(const event& e, const ref_value& ref = nullptr);
// Zero or more '\n'-terminated text lines.
std::string encode_text(const event& e);

extern const char* const server_name;  // "chatgate/VERSION"

}  // namespace chatgate::protocol
