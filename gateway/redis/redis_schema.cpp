#include "gateway/redis/redis_schema.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

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
local done = redis.call('GET', KEYS[3])
if done then return {2, tonumber(done)} end
if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 0 then return {3, 'behind'} end
local id = redis.call('INCR', KEYS[1])
local function entry(n)
  return '{"id":' .. string.format('%d', n) .. ',"ts":' .. string.format('%d', now) .. ',' ..
         string.sub(ARGV[5], 2)
end
local e = entry(id)
local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d', id) .. '-0', 'm', e)
if type(added) == 'table' and added.err then
  -- The counter went (evicted, deleted) while the stream stayed: go on
  -- after the stream's last id, so an id is never reused.
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  id = tonumber(string.match(last[1][1], '^(%d+)')) + 1
  redis.call('SET', KEYS[1], string.format('%d', id))
  e = entry(id)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d', id) .. '-0', 'm', e)
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
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

std::string encode_body(const protocol::chat_message& m, std::string_view node, std::uint64_t seq) {
  nlohmann::json j = {{"room", m.room},
                      {"from", m.from},
                      {"via", protocol::to_string(m.source)},
                      {"text", m.text},
                      {"n", node},
                      {"s", seq}};
  if (m.me) j["me"] = true;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<entry> decode_entry(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const char* k) -> const std::string* {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto num = [&](const char* k, auto& out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) return false;
    out = it->get<std::decay_t<decltype(out)>>();
    return true;
  };
  entry e;
  const std::string *room = str("room"), *from = str("from"), *via = str("via"),
                    *text = str("text"), *node = str("n");
  if (!room || !from || !via || !text || !node) return std::nullopt;
  if (!num("id", e.msg.id) || !num("ts", e.msg.ts) || !num("s", e.seq)) return std::nullopt;
  bool found = false;
  for (std::size_t v = 0; v < protocol::via_count; ++v)
    if (*via == protocol::to_string(static_cast<protocol::via>(v))) {
      e.msg.source = static_cast<protocol::via>(v);
      found = true;
    }
  if (!found) return std::nullopt;
  e.msg.room = *room;
  e.msg.from = *from;
  e.msg.text = *text;
  e.node = *node;
  auto me = j.find("me");
  e.msg.me = me != j.end() && me->is_boolean() && me->get<bool>();
  return e;
}

}  // namespace chatgate::redis::schema
