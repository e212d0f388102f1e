#include "client/render.hpp"

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

}  // namespace

std::string render_message(const json& m) {
  const std::string who = field(m, "from") + " (" + field(m, "via") + ")";
  auto flag = m.find("me");
  const bool me = flag != m.end() && flag->is_boolean() && flag->get<bool>();
  const std::string head = "[" + field(m, "room") + "] ";
  return safe(me ? head + "* " + who + " " + field(m, "text") : head + who + ": " + field(m, "text"));
}

std::vector<std::string> render_event(const json& event) {
  std::vector<std::string> out;
  if (!event.is_object()) return {safe(event.dump())};
  const std::string type = field(event, "type");
  if (type == "message") {
    out.push_back(render_message(event));
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
