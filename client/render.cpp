#include "client/render.hpp"

#include <cctype>

#include "protocol/text_sanitizer.hpp"

namespace chatgate::client {
namespace {

using json = nlohmann::json;

// A string field, or "" when missing or not a string.
std::string field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string number(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number() ? it->dump() : std::string("?");
}

const json& array(const json& j, const char* name) {
  static const json empty = json::array();
  auto it = j.find(name);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string safe(const std::string& line) { return protocol::sanitize_text(line); }

void render_list(const json& event, std::vector<std::string>& out) {
  const std::string type = field(event, "type");
  for (const json& item : array(event, type == "rooms" ? "rooms" : "members")) {
    if (!item.is_object()) continue;
    if (type == "rooms")
      out.push_back(safe("* #" + field(item, "room") + " (" + number(item, "members") + ")"));
    else
      out.push_back(safe("* " + field(item, "nick") + " (" + field(item, "via") + ")"));
  }
}

// Nicks compare case-insensitively (SPEC 2).
bool same_nick(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// As a text client sees it: "*alice* hi" (an action: "*alice* * alice
// waves"); our own copy: "-> *bob* hi".
std::string render_direct(const json& m, bool me, const std::string& self) {
  const std::string from = field(m, "from");
  const std::string body = me ? "* " + from + " " + field(m, "text") : field(m, "text");
  if (!self.empty() && same_nick(from, self)) return safe("-> *" + field(m, "to") + "* " + body);
  return safe("*" + from + "* " + body);
}

// Like the text protocol's topic lines.
std::string render_topic(const json& e) {
  const std::string room = field(e, "room"), topic = field(e, "topic"), by = field(e, "by");
  if (!topic.empty()) return safe("* topic of #" + room + ": " + topic + " (set by " + by + ")");
  if (!by.empty()) return safe("* topic of #" + room + " cleared by " + by);
  return safe("* no topic in #" + room);
}

}  // namespace

std::string render_message(const json& m, const std::string& self) {
  auto flag = m.find("me");
  const bool me = flag != m.end() && flag->is_boolean() && flag->get<bool>();
  if (m.contains("to") && !m.contains("room")) return render_direct(m, me, self);
  const std::string who = field(m, "from") + " (" + field(m, "via") + ")";
  const std::string head = "[" + field(m, "room") + "] ";
  return safe(me ? head + "* " + who + " " + field(m, "text") : head + who + ": " + field(m, "text"));
}

std::vector<std::string> render_event(const json& event, const std::string& self) {
  std::vector<std::string> out;
  if (!event.is_object()) return {safe(event.dump())};
  const std::string type = field(event, "type");
  if (type == "message") {
    out.push_back(render_message(event, self));
  } else if (type == "topic") {
    out.push_back(render_topic(event));
  } else if (type == "history") {
    for (const json& m : array(event, "messages"))
      if (m.is_object()) out.push_back(render_message(m));
  } else if (type == "welcome") {
    const json& rooms = array(event, "rooms");
    const std::string where = !rooms.empty() && rooms.front().is_string()
                                  ? "#" + rooms.front().get<std::string>() : std::string("no room");
    out.push_back(safe("* welcome " + field(event, "nick") + ", you are in " + where +
                       ". /help lists commands"));
  } else if (type == "joined" || type == "left") {
    out.push_back(safe("* " + field(event, "nick") + " " + type + " #" + field(event, "room")));
  } else if (type == "presence") {
    // A room above the server's presence limit: a count instead of each
    // join and leave; after our own join, its size alone.
    std::string line = "* #" + field(event, "room") + ": " + number(event, "members") + " people here";
    if (number(event, "joined") != "0" || number(event, "left") != "0")
      line += " (" + number(event, "joined") + " joined, " + number(event, "left") + " left)";
    out.push_back(safe(line));
  } else if (type == "nick") {
    out.push_back(safe("* " + field(event, "old") + " is now known as " + field(event, "nick")));
  } else if (type == "rooms" || type == "who") {
    render_list(event, out);
  } else if (type == "error") {
    out.push_back(safe("! " + field(event, "message")));
  } else if (type == "bye") {
    out.push_back(safe("* " + field(event, "message")));
  } else {
    out.push_back(safe(event.dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  return out;
}

}  // namespace chatgate::client
