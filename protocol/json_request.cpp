#include "protocol/json_request.hpp"

namespace chatgate::protocol {
namespace {

using json = nlohmann::ordered_json;

// Reads typed fields of one request object, remembering the first problem.
class field_reader {
 public:
  explicit field_reader(const json& obj) : obj_(obj) {}

  std::string text(const char* name) {
    auto it = obj_.find(name);
    if (it == obj_.end()) return fail("missing field: ", name);
    if (!it->is_string()) return fail("field must be a string: ", name);
    return it->get<std::string>();
  }

  bool flag(const char* name) {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) return false;
    if (!it->is_boolean()) return fail("field must be true or false: ", name), false;
    return it->get<bool>();
  }

  std::optional<std::uint64_t> counter(const char* name) {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) return std::nullopt;
    if (it->is_number_unsigned()) return it->get<std::uint64_t>();
    if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return it->get<std::uint64_t>();
    fail("field must be a non-negative integer: ", name);
    return std::nullopt;
  }

  const std::string& error() const { return error_; }

 private:
  std::string fail(const char* what, const char* name) {
    if (error_.empty()) error_ = std::string(what) + name;
    return {};
  }

  const json& obj_;
  std::string error_;
};

request_body parse_body(const json& obj) {
  field_reader f(obj);
  const std::string type = f.text("type");
  request_body body = req::invalid{error_code::bad_request, "unknown type: " + type};
  if (type == "say") {
    // A direct message names its recipient in `to` instead of a room.
    const bool direct = obj.contains("to");
    if (direct && obj.contains("room"))
      return req::invalid{error_code::bad_request, "say takes room or to, not both"};
    auto room = direct ? std::string() : f.text("room");
    auto to = direct ? f.text("to") : std::string();
    auto text = f.text("text");
    if (direct && f.error().empty() && to.empty())
      return req::invalid{error_code::bad_request, "field must not be empty: to"};
    body = req::say{std::move(room), std::move(text), f.flag("me"), std::move(to)};
  } else if (type == "join") {
    auto room = f.text("room");
    body = req::join{std::move(room), f.counter("since")};
  } else if (type == "leave") {
    body = req::leave{f.text("room")};
  } else if (type == "nick") {
    body = req::nick{f.text("nick")};
  } else if (type == "rooms") {
    body = req::rooms{};
  } else if (type == "who") {
    body = req::who{f.text("room")};
  } else if (type == "topic") {
    // Without `topic` (or with null) it is a question; with it, a change.
    auto room = f.text("room");
    std::optional<std::string> topic;
    if (auto it = obj.find("topic"); it != obj.end() && !it->is_null()) topic = f.text("topic");
    body = req::topic{std::move(room), std::move(topic)};
  }
  if (!f.error().empty()) body = req::invalid{error_code::bad_request, f.error()};
  return body;
}

}  // namespace

request parse_json_request(std::string_view frame) {
  request out{req::invalid{error_code::bad_request, {}}, nullptr};
  json obj = json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) {
    out.body = req::invalid{error_code::bad_request, "not valid JSON"};
    return out;
  }
  if (!obj.is_object()) {
    out.body = req::invalid{error_code::bad_request, "a request must be a JSON object"};
    return out;
  }
  if (auto ref = obj.find("ref"); ref != obj.end()) {
    if (!ref->is_string() && !ref->is_number()) {
      out.body = req::invalid{error_code::bad_request, "ref must be a string or a number"};
      return out;
    }
    out.ref = std::move(*ref);
  }
  out.body = parse_body(obj);
  return out;
}

}  // namespace chatgate::protocol
