#include "client/request_json.hpp"

namespace chatgate::client {
namespace {

using json = nlohmann::ordered_json;
namespace req = protocol::req;

struct encoder {
  const std::string& room;

  json operator()(const req::say& r) const {
    json j = r.to.empty()
                 ? json{{"type", "say"}, {"room", r.room.empty() ? room : r.room}, {"text", r.text}}
                 : json{{"type", "say"}, {"to", r.to}, {"text", r.text}};
    if (r.me) j["me"] = true;
    return j;
  }
  json operator()(const req::join& r) const {
    json j = {{"type", "join"}, {"room", r.room}};
    if (r.since) j["since"] = *r.since;
    return j;
  }
  json operator()(const req::leave& r) const {
    return {{"type", "leave"}, {"room", r.room.empty() ? room : r.room}};
  }
  json operator()(const req::nick& r) const { return {{"type", "nick"}, {"nick", r.nick}}; }
  json operator()(const req::rooms&) const { return {{"type", "rooms"}}; }
  json operator()(const req::who& r) const { return {{"type", "who"}, {"room", r.room.empty() ? room : r.room}}; }
  json operator()(const req::topic& r) const {
    json j = {{"type", "topic"}, {"room", r.room.empty() ? room : r.room}};
    if (r.topic) j["topic"] = *r.topic;
    return j;
  }
  json operator()(const req::help&) const { return nullptr; }
  json operator()(const req::quit&) const { return nullptr; }
  json operator()(const req::json_mode&) const { return nullptr; }
  json operator()(const req::invalid&) const { return nullptr; }
  json operator()(const req::auth& r) const { return {{"type", "auth"}, {"token", r.token}}; }
};

}  // namespace

std::optional<std::string> encode_request(const protocol::request_body& body, const std::string& room,
                                          std::uint64_t ref) {
  json j = std::visit(encoder{room}, body);
  if (j.is_null()) return std::nullopt;
  j["ref"] = ref;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace chatgate::client
