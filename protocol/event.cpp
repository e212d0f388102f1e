#include "protocol/event.hpp"

#include "protocol/json_text.hpp"
#include "protocol/text_sanitizer.hpp"
#include "protocol/version.hpp"

namespace chatgate::protocol {
namespace {

using json = nlohmann::ordered_json;

json message_object(const chat_message& m) {
  if (!m.to.empty()) {
    // Direct: `to` instead of `room`, and no id (not part of any room's log).
    json j = {{"type", "message"}, {"to", m.to},     {"from", m.from},
              {"via", to_string(m.source)}, {"text", m.text}, {"ts", m.ts}};
    if (m.me) j["me"] = true;
    return j;
  }
  json j = {{"type", "message"}, {"room", m.room}, {"from", m.from}, {"via", to_string(m.source)},
            {"text", m.text},    {"id", m.id},     {"ts", m.ts}};
  if (m.me) j["me"] = true;
  return j;
}

std::string dump(const json& j);

// message_object(m) dumped, written without the document: one per message
// and per node, the per-message path's largest cost otherwise.
std::string message_json(const chat_message& m) {
  const bool direct = !m.to.empty();
  if (!valid_utf8(direct ? m.to : m.room) || !valid_utf8(m.from) || !valid_utf8(m.text))
    return dump(message_object(m));  // nlohmann's replacement rules
  std::string out;
  out.reserve(m.room.size() + m.to.size() + m.from.size() + m.text.size() + 96);
  out.append(direct ? R"({"type":"message","to":)" : R"({"type":"message","room":)");
  append_json_string(out, direct ? m.to : m.room);
  out.append(R"(,"from":)");
  append_json_string(out, m.from);
  out.append(R"(,"via":")").append(to_string(m.source)).append(R"(","text":)");
  append_json_string(out, m.text);
  if (!direct) out.append(R"(,"id":)").append(std::to_string(m.id));
  out.append(R"(,"ts":)").append(std::to_string(m.ts));
  if (m.me) out.append(R"(,"me":true)");
  out.push_back('}');
  return out;
}

std::string text_message(const chat_message& m) {
  std::string line;
  line.reserve(m.room.size() + 2 * m.from.size() + m.text.size() + 8);
  // A direct message is marked "*FROM* "; nicks hold no '*' or space, so it
  // cannot be mistaken for a "* " server line or a "[room] " message.
  const bool direct = !m.to.empty();
  if (direct)
    line.append("*").append(m.from).append("* ");
  else
    line.append("[").append(m.room).append("] ");
  if (m.me)
    line.append("* ").append(m.from).append(" ");
  else if (!direct)
    line.append(m.from).append(": ");
  return line.append(m.text).append("\n");
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

struct json_encoder {
  json operator()(const ev::welcome& e) const {
    json j = {{"type", "welcome"}, {"nick", e.nick}, {"rooms", e.rooms}, {"server", server_name}};
    if (e.presence_limit) j["presence_limit"] = e.presence_limit;
    return j;
  }
  json operator()(const ev::message& e) const { return message_object(*e.msg->msg); }
  json operator()(const ev::history&) const { return nullptr; }  // spliced, see encode_json
  json operator()(const ev::joined& e) const {
    return {{"type", "joined"}, {"room", e.room}, {"nick", e.nick}, {"via", to_string(e.source)}};
  }
  json operator()(const ev::left& e) const {
    return {{"type", "left"}, {"room", e.room}, {"nick", e.nick}, {"via", to_string(e.source)}};
  }
  json operator()(const ev::nick& e) const {
    return {{"type", "nick"}, {"old", e.old_nick}, {"nick", e.nick}};
  }
  json operator()(const ev::rooms& e) const {
    json list = json::array();
    for (const auto& r : e.rooms)
      list.push_back({{"room", r.room}, {"members", r.members}, {"topic", r.topic}});
    return {{"type", "rooms"}, {"rooms", std::move(list)}};
  }
  json operator()(const ev::who& e) const {
    json list = json::array();
    for (const auto& [nick, source] : e.members)
      list.push_back({{"nick", nick}, {"via", to_string(source)}});
    json j = {{"type", "who"}, {"room", e.room}, {"members", std::move(list)}};
    if (e.count) j["count"] = *e.count;
    return j;
  }
  json operator()(const ev::presence& e) const {
    return {{"type", "presence"}, {"room", e.room}, {"members", e.members}, {"joined", e.joined}, {"left", e.left}};
  }
  json operator()(const ev::error& e) const {
    return {{"type", "error"}, {"code", to_string(e.code)}, {"message", e.message}};
  }
  json operator()(const ev::topic& e) const {
    return {{"type", "topic"}, {"room", e.room}, {"topic", e.topic}, {"by", e.by}, {"ts", e.ts}};
  }
  json operator()(const ev::notice&) const { return nullptr; }
  json operator()(const ev::bye& e) const { return {{"type", "bye"}, {"message", e.message}}; }
};

// History keeps no encodings (they would triple its memory): each message is
// encoded again, once per replay.
std::string encode_history(const ev::history& e, const ref_value& ref) {
  std::size_t size = 64 + e.room.size();
  for (const auto& m : e.messages) size += m->text.size() + m->from.size() + m->room.size() + 96;
  std::string out;
  out.reserve(size);
  out.append(R"({"type":"history","room":)").append(dump(e.room));
  if (!ref.is_null()) out.append(R"(,"ref":)").append(dump(ref));
  out.append(R"(,"messages":[)");
  for (std::size_t i = 0; i < e.messages.size(); ++i) {
    if (i) out.push_back(',');
    out.append(message_json(*e.messages[i]));
  }
  return out.append("]}\n");
}

struct text_encoder {
  std::string operator()(const ev::welcome& e) const {
    const std::string room = e.rooms.empty() ? std::string() : e.rooms.front();
    return "* welcome " + e.nick + ", you are in #" + room + ". /help lists commands\n";
  }
  std::string operator()(const ev::message& e) const { return e.msg->text; }
  std::string operator()(const ev::history& e) const {
    std::string out;
    for (const auto& m : e.messages) out.append(text_message(*m));
    return out;
  }
  std::string operator()(const ev::joined& e) const {
    return "* " + e.nick + " joined #" + e.room + "\n";
  }
  std::string operator()(const ev::left& e) const { return "* " + e.nick + " left #" + e.room + "\n"; }
  std::string operator()(const ev::nick& e) const {
    return "* " + e.old_nick + " is now known as " + e.nick + "\n";
  }
  std::string operator()(const ev::rooms& e) const {
    std::string out;
    for (const auto& r : e.rooms)
      out.append("* #").append(r.room).append(" (").append(std::to_string(r.members)).append(")\n");
    return out;
  }
  std::string operator()(const ev::who& e) const {
    std::string out;
    for (const auto& [nick, source] : e.members)
      out.append("* ").append(nick).append(" (").append(to_string(source)).append(")\n");
    return out;
  }
  std::string operator()(const ev::error& e) const { return "! " + e.message + "\n"; }
  std::string operator()(const ev::topic& e) const {
    if (!e.topic.empty()) return "* topic of #" + e.room + ": " + e.topic + " (set by " + e.by + ")\n";
    if (!e.by.empty()) return "* topic of #" + e.room + " cleared by " + e.by + "\n";
    return "* no topic in #" + e.room + "\n";
  }
  std::string operator()(const ev::notice& e) const {
    std::string out;
    for (const auto& line : e.lines) out.append("* ").append(line).append("\n");
    return out;
  }
  std::string operator()(const ev::bye& e) const { return "* " + e.message + "\n"; }
  // Text clients ask /who or /rooms; a count every second would be noise.
  std::string operator()(const ev::presence&) const { return {}; }
};

}  // namespace

const char* const server_name = "chatgate/" CHATGATE_VERSION;

const char* to_string(via v) {
  switch (v) {
    case via::ws: return "ws";
    case via::tcp: return "tcp";
    case via::udp: return "udp";
    case via::echo: return "echo";
    case via::irc: return "irc";
  }
  return "?";
}

const char* to_string(error_code code) {
  switch (code) {
    case error_code::bad_request: return "bad_request";
    case error_code::bad_room: return "bad_room";
    case error_code::bad_nick: return "bad_nick";
    case error_code::nick_taken: return "nick_taken";
    case error_code::not_in_room: return "not_in_room";
    case error_code::too_long: return "too_long";
    case error_code::rate_limited: return "rate_limited";
    case error_code::unavailable: return "unavailable";
    case error_code::no_such_nick: return "no_such_nick";
    case error_code::bad_token: return "bad_token";
  }
  return "?";
}

sealed_message::sealed_message(chat_message m)
    : sealed_message(std::make_shared<const chat_message>(std::move(m))) {}

sealed_message::sealed_message(stored_ptr m)
    : msg(std::move(m)), json(message_json(*msg) + "\n"), text(text_message(*msg)) {}

std::string encode_json(const event& e, const ref_value& ref) {
  if (const auto* h = std::get_if<ev::history>(&e)) return encode_history(*h, ref);
  json j = std::visit(json_encoder{}, e);
  if (j.is_null()) return {};
  if (!ref.is_null()) j["ref"] = ref;
  return dump(j) + "\n";
}

std::string encode_text(const event& e) { return std::visit(text_encoder{}, e); }

}  // namespace chatgate::protocol
