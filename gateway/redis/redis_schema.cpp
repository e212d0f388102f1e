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

std::optional<entry> decode_entry_slow(std::string_view json) {
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

// The payloads nodes write are flat objects of strings, integers and
// booleans: read in one pass, straight into the message, without a JSON
// document. Anything else (a \u escape, a nested or float value, bad
// syntax) makes it give up; decode_entry then asks nlohmann, which has the
// last word, so both read any payload the same.
class flat_reader {
 public:
  explicit flat_reader(std::string_view s) : s_(s) {}

  bool read(entry& e) {
    bool room = false, from = false, via = false, text = false, node = false, id = false, ts = false,
         seq = false;
    std::string via_name;
    skip_space();
    if (!eat('{')) return false;
    skip_space();
    if (eat('}')) return false;  // empty: no message
    for (;;) {
      std::string_view key;
      skip_space();
      if (!raw_key(key)) return false;
      skip_space();
      if (!eat(':')) return false;
      skip_space();
      if (key == "room") {
        if (!(room = string(e.msg.room))) return false;
      } else if (key == "from") {
        if (!(from = string(e.msg.from))) return false;
      } else if (key == "via") {
        if (!(via = string(via_name))) return false;
      } else if (key == "text") {
        if (!(text = string(e.msg.text))) return false;
      } else if (key == "n") {
        if (!(node = string(e.node))) return false;
      } else if (key == "id") {
        if (!(id = integer(e.msg.id))) return false;
      } else if (key == "ts") {
        if (!(ts = integer(e.msg.ts))) return false;
      } else if (key == "s") {
        if (!(seq = integer(e.seq))) return false;
      } else if (key == "me") {
        if (!boolean(e.msg.me)) return false;
      } else if (!skip_value()) {
        return false;
      }
      skip_space();
      if (eat('}')) break;
      if (!eat(',')) return false;
    }
    skip_space();
    if (i_ != s_.size()) return false;
    if (!(room && from && via && text && node && id && ts && seq)) return false;
    for (std::size_t v = 0; v < protocol::via_count; ++v)
      if (via_name == protocol::to_string(static_cast<protocol::via>(v))) {
        e.msg.source = static_cast<protocol::via>(v);
        return true;
      }
    return false;
  }

 private:
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  // A key without escapes.
  bool raw_key(std::string_view& out) {
    if (!eat('"')) return false;
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' || static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      ++i_;
    }
    if (i_ == s_.size()) return false;
    out = s_.substr(start, i_ - start);
    ++i_;
    return valid_utf8(out);
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    std::size_t plain = i_;
    for (;;) {
      if (i_ == s_.size()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c != '\\') {
        ++i_;
        continue;
      }
      out.append(s_.data() + plain, i_ - plain);
      if (++i_ == s_.size()) return false;
      switch (s_[i_]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: return false;  // \u (rare: nlohmann decodes it)
      }
      plain = ++i_;
    }
    out.append(s_.data() + plain, i_ - plain);
    ++i_;
    return valid_utf8(out);
  }
  // An integer, cast as nlohmann's get<T>() casts it.
  template <class T>
  bool integer(T& out) {
    const bool negative = eat('-');
    const std::size_t start = i_;
    std::uint64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') v = v * 10 + static_cast<unsigned>(s_[i_++] - '0');
    const std::size_t digits = i_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && s_[start] == '0')) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    out = negative ? static_cast<T>(-static_cast<std::int64_t>(v)) : static_cast<T>(v);
    return true;
  }
  bool boolean(bool& out) {
    if (s_.substr(i_, 4) == "true") {
      i_ += 4;
      out = true;
      return true;
    }
    if (s_.substr(i_, 5) == "false") {
      i_ += 5;
      out = false;
      return true;
    }
    return false;
  }
  bool skip_value() {
    if (i_ < s_.size() && s_[i_] == '"') {
      std::string ignored;
      return string(ignored);
    }
    bool b;
    if (i_ < s_.size() && (s_[i_] == 't' || s_[i_] == 'f')) return boolean(b);
    std::int64_t n;
    return integer(n);
  }

  std::string_view s_;
  std::size_t i_ = 0;
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
  if (flat_reader(json).read(e)) return e;
  return decode_entry_slow(json);
}

}  // namespace chatgate::redis::schema
