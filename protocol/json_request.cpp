#include "protocol/json_request.hpp"

#include <utility>
#include <vector>

namespace chatgate::protocol {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_depth = 32;

// A request object's top-level members in the order they came. Appending
// is O(1) and a request looks up a handful of fields, so a frame of many
// keys costs linear time (an ordered_json inserts through a linear search:
// quadratic). Like nlohmann's parser, the last of duplicate keys wins.
class top_level {
 public:
  void add(std::string key, json value) { members_.emplace_back(std::move(key), std::move(value)); }

  // Used as find(name) / end() / it->..., the way a json object is.
  const json* find(std::string_view name) const {
    for (auto it = members_.rbegin(); it != members_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }
  const json* end() const { return nullptr; }
  bool contains(std::string_view name) const { return find(name) != nullptr; }

 private:
  std::vector<std::pair<std::string, json>> members_;
};

// Keeps a frame's top-level members and nothing below them: a nested
// container stays as an empty one of its kind, so a field of the wrong type
// is still reported as such, and nothing else is built. Nesting deeper than
// max_depth ends the parse.
class top_level_reader final : public nlohmann::json_sax<json> {
 public:
  top_level members;
  bool root_is_object = false;
  bool too_deep = false;

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t&) override { return value(nullptr); }
  bool start_object(std::size_t) override { return open(json::value_t::object); }
  bool start_array(std::size_t) override { return open(json::value_t::array); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  template <class V>
  bool value(V&& v) {
    if (depth_ == 1) members.add(std::move(key_), std::forward<V>(v));
    return true;
  }
  bool open(json::value_t kind) {
    if (depth_ == 0) root_is_object = kind == json::value_t::object;
    if (++depth_ > max_depth) return too_deep = true, false;
    // Only a member's own container is kept (empty); nothing is built below.
    if (depth_ == 2) members.add(std::move(key_), json(kind));
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }

  std::size_t depth_ = 0;
  std::string key_;
};

// Reads typed fields of one request object, remembering the first problem.
class field_reader {
 public:
  explicit field_reader(const top_level& obj) : obj_(obj) {}

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

  const top_level& obj_;
  std::string error_;
};

request_body parse_body(const top_level& obj) {
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
    auto room = f.text("room");
    body = req::who{std::move(room), static_cast<std::size_t>(f.counter("limit").value_or(0))};
  } else if (type == "topic") {
    // Without `topic` (or with null) it is a question; with it, a change.
    auto room = f.text("room");
    std::optional<std::string> topic;
    if (auto it = obj.find("topic"); it != obj.end() && !it->is_null()) topic = f.text("topic");
    body = req::topic{std::move(room), std::move(topic)};
  } else if (type == "auth") {
    body = req::auth{f.text("token")};
  }
  if (!f.error().empty()) body = req::invalid{error_code::bad_request, f.error()};
  return body;
}

ref_value to_ref(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return v.get<double>();
}

}  // namespace

request parse_json_request(std::string_view frame) {
  request out{req::invalid{error_code::bad_request, {}}, nullptr};
  top_level_reader reader;
  const bool parsed = json::sax_parse(frame.begin(), frame.end(), &reader);
  // A ref read before the parse stopped is echoed on the error too.
  const top_level& obj = reader.members;
  const json* ref = obj.find("ref");
  const bool ref_ok = ref == obj.end() || ref->is_string() || ref->is_number();
  if (ref != obj.end() && ref_ok) out.ref = to_ref(*ref);
  if (reader.too_deep) {
    out.body = req::invalid{error_code::bad_request,
                            "JSON nested deeper than " + std::to_string(max_depth) + " levels"};
  } else if (!parsed) {
    out.body = req::invalid{error_code::bad_request, "not valid JSON"};
  } else if (!reader.root_is_object) {
    out.body = req::invalid{error_code::bad_request, "a request must be a JSON object"};
  } else if (!ref_ok) {
    out.body = req::invalid{error_code::bad_request, "ref must be a string or a number"};
  } else {
    out.body = parse_body(obj);
  }
  return out;
}

}  // namespace chatgate::protocol
