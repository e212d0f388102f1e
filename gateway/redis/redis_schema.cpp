#include "gateway/redis/redis_schema.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "protocol/json_text.hpp"
#include "protocol/text_sanitizer.hpp"

namespace chatgate::redis::schema {

namespace {
std::string tagged(std::string_view room, std::string_view suffix) {
  std::string k = "chatgate:{";
  k.append(room).append("}:").append(suffix);
  return k;
}
}  // namespace

std::string room_id_key(std::string_view room) { return tagged(room, "id"); }
std::string room_log_key(std::string_view room) { return tagged(room, "log"); }
std::string room_channel(std::string_view room) { return tagged(room, "ch"); }
std::string publish_result_key(std::string_view room, std::string_view node, std::uint64_t seq) {
  std::string k = tagged(room, "pub:");
  k.append(node).append(":").append(std::to_string(seq));
  return k;
}
std::string node_channel(std::string_view node) {
  return "chatgate:node:" + std::string(node);
}

// Lua 5.1 numbers are doubles: ids and ms timestamps stay exact below 2^53;
// string.format("%d") keeps them out of exponent notation.
const char* const publish_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[1]) then return {0, 'expired'} end
local done, before = nil, true
if KEYS[4] then
  local got = redis.call('MGET', KEYS[3], KEYS[4])  -- one command: they cost more than lookups
  done, before = got[1], got[2]
else
  done = redis.call('GET', KEYS[3])
end
if done then return {2, tonumber(done)} end
if not before then return {3, 'behind'} end
local id = redis.call('INCR', KEYS[1])
local function entry(n)
  return '{"id":' .. string.format('%d', n) .. ',"ts":' .. string.format('%d', now) .. ',' ..
         string.sub(ARGV[5], 2)
end
local e = entry(id)
local renewed = false
local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d', id) .. '-0', 'm', e)
if type(added) == 'table' and added.err then
  -- The counter went (evicted, deleted) while the stream stayed: go on
  -- after the stream's last id, so an id is never reused.
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  id = tonumber(string.match(last[1][1], '^(%d+)')) + 1
  redis.call('SET', KEYS[1], string.format('%d', id))
  e = entry(id)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d', id) .. '-0', 'm', e)
  renewed = true  -- the new counter has no TTL yet
end
-- The room's TTL: set with its first message, then refreshed every 32nd
-- (two commands of eight otherwise) and by the presence refresh of every
-- node with members in the room (redis_directory), so a slow room lasts too.
if renewed or id % 32 == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call('SET', KEYS[3], string.format('%d', id), 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[3], e)
return {1, id, now}
)lua";

std::string script_sha1(std::string_view script) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(script.data(), script.size(), md, &len, EVP_sha1(), nullptr);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

const std::string& publish_script_sha() {
  static const std::string sha = script_sha1(publish_script);
  return sha;
}

namespace {

using protocol::append_json_string;
using protocol::valid_utf8;

std::string encode_body_slow(const protocol::chat_message& m, std::string_view node, std::uint64_t seq) {
  nlohmann::json j = {{"room", m.room},
                      {"from", m.from},
                      {"via", protocol::to_string(m.source)},
                      {"text", m.text},
                      {"n", node},
                      {"s", seq}};
  if (m.me) j["me"] = true;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Reads a payload's top-level fields straight into the message as
// nlohmann's SAX parser meets them: no JSON document per message (that was
// most of a node's cost per message in a small room). Unknown fields, of
// any value, are skipped (a newer node's); the last of a repeated field
// counts, as in a document.
class entry_reader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit entry_reader(entry& e) : e_(e) {}

  // Every field there, with the right type, and a known transport.
  bool complete() const {
    if (!object_ || !(room_ && from_ && via_ && text_ && node_ && id_ && ts_ && seq_)) return false;
    for (std::size_t v = 0; v < protocol::via_count; ++v)
      if (via_name_ == protocol::to_string(static_cast<protocol::via>(v))) {
        e_.msg.source = static_cast<protocol::via>(v);
        return true;
      }
    return false;
  }

  bool null() override { return other(); }
  bool boolean(bool v) override {
    if (field() != me) return other();
    e_.msg.me = v;
    return true;
  }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return integer(v); }
  bool number_float(number_float_t, const string_t&) override { return other(); }
  bool string(string_t& v) override {
    switch (field()) {
      case room: return set(room_, e_.msg.room, v);
      case from: return set(from_, e_.msg.from, v);
      case via: return set(via_, via_name_, v);
      case text: return set(text_, e_.msg.text, v);
      case node: return set(node_, e_.node, v);
      default: return other();
    }
  }
  bool binary(binary_t&) override { return other(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) object_ = true;
    return open();
  }
  bool start_array(std::size_t) override { return open(); }
  bool end_object() override { return --depth_, true; }
  bool end_array() override { return --depth_, true; }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum known { room, from, via, text, node, id, ts, seq, me, unknown };
  // The top-level field a value at this depth belongs to.
  known field() const {
    if (depth_ != 1) return unknown;
    static constexpr std::pair<std::string_view, known> names[] = {
        {"room", room}, {"from", from}, {"via", via}, {"text", text}, {"n", node},
        {"id", id},     {"ts", ts},     {"s", seq},   {"me", me}};
    for (const auto& [name, f] : names)
      if (key_ == name) return f;
    return unknown;
  }
  bool set(bool& seen, std::string& out, string_t& v) {
    out = std::move(v);
    return seen = true;
  }
  template <class N>
  bool integer(N v) {  // cast as a document's get<T>() casts
    switch (field()) {
      case id: return e_.msg.id = static_cast<decltype(e_.msg.id)>(v), id_ = true;
      case ts: return e_.msg.ts = static_cast<decltype(e_.msg.ts)>(v), ts_ = true;
      case seq: return e_.seq = static_cast<decltype(e_.seq)>(v), seq_ = true;
      default: return other();
    }
  }
  // A value of another type (or an unknown field's): a known field given
  // it no longer counts.
  bool other() {
    switch (field()) {
      case room: room_ = false; break;
      case from: from_ = false; break;
      case via: via_ = false; break;
      case text: text_ = false; break;
      case node: node_ = false; break;
      case id: id_ = false; break;
      case ts: ts_ = false; break;
      case seq: seq_ = false; break;
      case me: e_.msg.me = false; break;
      case unknown: break;
    }
    return true;
  }
  bool open() {
    other();  // a container where a field was wanted
    ++depth_;
    return true;
  }

  entry& e_;
  std::string key_;
  std::string via_name_;
  std::size_t depth_ = 0;
  bool object_ = false;  // the payload is an object
  bool room_ = false, from_ = false, via_ = false, text_ = false, node_ = false, id_ = false, ts_ = false,
       seq_ = false;
};

}  // namespace

std::string encode_body(const protocol::chat_message& m, std::string_view node, std::uint64_t seq) {
  if (!valid_utf8(m.room) || !valid_utf8(m.from) || !valid_utf8(m.text) || !valid_utf8(node))
    return encode_body_slow(m, node, seq);  // nlohmann replaces what is not UTF-8
  // The keys in nlohmann's order (sorted), so the bytes are the same.
  std::string out;
  out.reserve(m.room.size() + m.from.size() + m.text.size() + node.size() + 80);
  out.append("{\"from\":");
  append_json_string(out, m.from);
  if (m.me) out.append(",\"me\":true");
  out.append(",\"n\":");
  append_json_string(out, node);
  out.append(",\"room\":");
  append_json_string(out, m.room);
  out.append(",\"s\":").append(std::to_string(seq));
  out.append(",\"text\":");
  append_json_string(out, m.text);
  out.append(",\"via\":");
  append_json_string(out, protocol::to_string(m.source));
  out.push_back('}');
  return out;
}

std::optional<entry> decode_entry(std::string_view json) {
  entry e;
  entry_reader reader(e);
  if (!nlohmann::json::sax_parse(json.begin(), json.end(), &reader) || !reader.complete()) return std::nullopt;
  return e;
}

}  // namespace chatgate::redis::schema
