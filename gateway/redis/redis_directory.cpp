#include "gateway/redis/redis_directory.hpp"

#include <algorithm>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "protocol/names.hpp"

namespace chatgate::redis {

namespace {

const char* const nick_channel = "chatgate:nicks";  // nick changes, to every node
const char* const rooms_key = "chatgate:rooms";     // sorted set: room -> expiry (ms, Redis clock)
const char* const guest_key = "chatgate:guest";     // guest numbers handed out, cluster-wide
constexpr std::size_t guest_block = 32;
constexpr std::size_t max_rooms_listed = 1000;

std::string nick_key(const std::string& nick) { return "chatgate:nick:" + protocol::fold_nick(nick); }
std::string reserved_key(const std::string& nick) { return "chatgate:reserved:" + protocol::fold_nick(nick); }
std::string who_key(const std::string& room) { return "chatgate:{" + room + "}:who"; }

// A claim: taken when absent or already ours (a refresh), refused when it
// names another node, or when a token reserved the nick and the claimer is
// not its owner. A weak claim (an unvalidated UDP peer's, SPEC 9) ends in
// "\t*": a strong claim takes another node's weak one over and tells that
// node (`lost`); a weak claim never takes nor weakens a strong one (2: ours
// and strong, kept as it was).
//   KEYS: claim, reservation
//   ARGV: NODE\tNick[\t*], ttl ms, NODE\t, owner (1/0), weak (1/0), `lost` payload
const char* const claim_script = R"lua(
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local v = redis.call('GET', KEYS[1])
if v then
  local weak_held = string.sub(v, -2) == '\t*'
  if string.sub(v, 1, #ARGV[3]) == ARGV[3] then
    if ARGV[5] == '1' and not weak_held then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return 2
    end
  else
    if ARGV[5] == '1' or not weak_held then return 0 end
    local tab = string.find(v, '\t', 1, true)
    redis.call('PUBLISH', 'chatgate:node:' .. string.sub(v, 1, tab - 1), ARGV[6])
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua";

// The heartbeat's refresh of this node's claims, many per call (a claim per
// EVAL would cost Redis a request per client every heartbeat): each is
// written again unless another node holds it now; returns the indexes
// (1-based) of those.   KEYS: claims   ARGV: ttl ms, NODE\t, NODE\tNick per key
const char* const refresh_script = R"lua(
local lost = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, #ARGV[2]) ~= ARGV[2] then
    table.insert(lost, i)
  else
    redis.call('SET', k, ARGV[i + 2], 'PX', ARGV[1])
  end
end
return lost
)lua";
constexpr std::size_t refresh_batch = 500;  // claims per refresh script

// Deletes a claim only if it is ours.   KEYS: claim   ARGV: NODE\t
const char* const release_script = R"lua(
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

// Presence: members of a room on this node live until now + ttl (Redis
// clock); the room is listed as long. The room's id counter and stream
// live room-TTL from now (the publish script refreshes them only every
// 32nd message): a room is forgotten a room-TTL after it was last used.
//   KEYS: who, rooms, id counter, stream   ARGV: ttl ms, room, room TTL ms, members...
const char* const presence_script = R"lua(
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], until_ms, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], until_ms, ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
return 1
)lua";

// The live members of a room (expired ones dropped first).   KEYS: who
const char* const who_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
)lua";

// Rooms with live members somewhere: name, count, topic.   KEYS: rooms   ARGV: max
const char* const rooms_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, r in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local k = 'chatgate:{' .. r .. '}:who'
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  local n = redis.call('ZCARD', k)
  if n > 0 then
    table.insert(out, r)
    table.insert(out, n)
    table.insert(out, redis.call('HGET', 'chatgate:{' .. r .. '}:topic', 'text') or '')
  end
end
return out
)lua";

// A direct message to the node that holds the nick.   KEYS: claim   ARGV: payload
// Returns the nick as its owner spells it, or nil. The recipient's node
// finds its client by the folded nick the payload names.
const char* const direct_script = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return false end
local tab = string.find(v, '\t', 1, true)
if not tab then return false end
local node = string.sub(v, 1, tab - 1)
local nick = string.sub(v, tab + 1)
local weak = string.find(nick, '\t', 1, true)
if weak then nick = string.sub(nick, 1, weak - 1) end
redis.call('PUBLISH', 'chatgate:node:' .. node, ARGV[1])
return nick
)lua";

std::optional<protocol::via> via_of(const std::string& name) {
  for (std::size_t v = 0; v < protocol::via_count; ++v)
    if (name == protocol::to_string(static_cast<protocol::via>(v))) return static_cast<protocol::via>(v);
  return std::nullopt;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

redis_directory::redis_directory(asio::io_context& io, redis_store& store)
    : io_(io), store_(store), redis_(store.commands()), node_(store.options().node_id), timer_(io) {
  store_.on_node_message([this](const std::string& payload) { on_node_message(payload); });
  store_.on_room_event([this](const std::string& room, const std::string& payload) { on_room_event(room, payload); });
  store_.subscription().subscribe(nick_channel);
  store_.on_up([this] {
    // Back after an outage (or a Redis that lost its data): claims and
    // presence are written again at once, not at the next heartbeat; the
    // reservations this node has seen too.
    for (const auto& folded : reserved_)
      redis_.command({"SET", reserved_key(folded), folded}, [](std::error_code, reply) {});
    heartbeat();
  });
  heartbeat();
}

redis_directory::~redis_directory() {
  timer_.cancel();
  store_.on_node_message({});
  store_.on_room_event({});
  store_.on_up({});
}

std::string redis_directory::member(const std::string& nick, protocol::via v) const {
  return nick + "\t" + protocol::to_string(v) + "\t" + node_;
}

std::string redis_directory::owner(const std::string& nick) const { return node_ + "\t" + nick; }

// ------------------------------------------------------------------ nicks

std::string redis_directory::next_guest() {
  if (guests_.size() < guest_block / 2) refill_guests();
  if (guests_.empty()) return {};
  const std::uint64_t n = guests_.front();
  guests_.pop_front();
  return "guest-" + std::to_string(n);
}

void redis_directory::refill_guests() {
  if (refilling_ || !redis_.up()) return;
  refilling_ = true;
  redis_.command({"INCRBY", guest_key, std::to_string(guest_block)},
                 [this, w = std::weak_ptr<int>(alive_)](std::error_code ec, reply r) {
                   if (!w.lock()) return;
                   refilling_ = false;
                   if (ec || r.kind != reply::type::integer) return;
                   const auto top = static_cast<std::uint64_t>(r.integer);
                   for (std::uint64_t n = top - guest_block + 1; n <= top; ++n) guests_.push_back(n);
                 });
}

void redis_directory::send_claim(const std::string& nick, bool is_owner, bool weak,
                                 std::function<void(outcome, bool written)> then) {
  redis_.command({"EVAL", claim_script, "2", nick_key(nick), reserved_key(nick), claim_value(nick, weak),
                  std::to_string(3 * store_.options().heartbeat.count()), node_ + "\t", is_owner ? "1" : "0",
                  weak ? "1" : "0", json_text({{"type", "lost"}, {"nick", nick}})},
                 [then = std::move(then)](std::error_code ec, reply r) {
                   if (ec || r.kind != reply::type::integer) return then(outcome::unavailable, false);
                   then(r.integer == 0 ? outcome::refused : outcome::ok, r.integer == 1);
                 });
}

std::string redis_directory::claim_value(const std::string& nick, bool weak) const {
  return weak ? owner(nick) + "\t*" : owner(nick);
}

void redis_directory::reserve(const std::string& nick) {
  // Kept without a TTL, like --db keeps it across restarts; written again
  // when Redis comes back (it may have been down now, or lost its data).
  reserved_.insert(protocol::fold_nick(nick));
  if (redis_.up()) redis_.command({"SET", reserved_key(nick), nick}, [](std::error_code, reply) {});
}

void redis_directory::claim(const std::string& nick, bool is_owner, bool weak, std::function<void(outcome)> then) {
  if (!redis_.up()) {
    asio::post(io_, [then = std::move(then)] { then(outcome::unavailable); });
    return;
  }
  send_claim(nick, is_owner, weak,
             [this, w = std::weak_ptr<int>(alive_), nick, weak, then = std::move(then)](outcome o, bool written) {
               if (w.lock() && written) {
                 const std::string folded = protocol::fold_nick(nick);
                 nicks_[folded] = nick;
                 if (weak)
                   weak_.insert(folded);
                 else
                   weak_.erase(folded);
               }
               then(o);
             });
}

void redis_directory::hold(const std::string& nick) {
  const std::string folded = protocol::fold_nick(nick);
  nicks_[folded] = nick;
  weak_.erase(folded);
  if (!redis_.up()) return;  // the heartbeat claims it when Redis is back
  // Already given: a refresh of something the hub decided, reservation or not.
  send_claim(nick, true, false, [this, nick](outcome o, bool) {
    if (o == outcome::refused)
      spdlog::warn("node {}: nick {} is claimed by another node too", node_, nick);
  });
}

void redis_directory::release(const std::string& nick) {
  auto it = nicks_.find(protocol::fold_nick(nick));
  if (it == nicks_.end()) return;
  weak_.erase(it->first);
  nicks_.erase(it);
  if (redis_.up())
    redis_.command({"EVAL", release_script, "1", nick_key(nick), node_ + "\t"}, [](std::error_code, reply) {});
}

// ------------------------------------------------------------------ presence and events

void redis_directory::add_presence(const std::string& room, const std::vector<std::string>& members) {
  if (!redis_.up()) return;
  std::vector<std::string> args{"EVAL",
                                presence_script,
                                "4",
                                who_key(room),
                                rooms_key,
                                schema::room_id_key(room),
                                schema::room_log_key(room),
                                std::to_string(3 * store_.options().heartbeat.count()),
                                room,
                                std::to_string(store_.options().room_ttl.count())};
  args.insert(args.end(), members.begin(), members.end());
  redis_.command(std::move(args), [](std::error_code, reply) {});
}

void redis_directory::publish_event(const std::string& channel, const std::string& payload) {
  if (redis_.up()) redis_.command({"PUBLISH", channel, payload}, [](std::error_code, reply) {});
}

void redis_directory::joined(const std::string& room, const std::string& nick, protocol::via v) {
  const std::string m = member(nick, v);
  presence_[room].insert(m);
  add_presence(room, {m});
  publish_event(schema::room_channel(room),
                json_text({{"type", "joined"}, {"room", room}, {"nick", nick}, {"via", protocol::to_string(v)},
                           {"n", node_}}));
}

void redis_directory::left(const std::string& room, const std::string& nick, protocol::via v) {
  const std::string m = member(nick, v);
  auto it = presence_.find(room);
  if (it != presence_.end()) {
    it->second.erase(m);
    if (it->second.empty()) presence_.erase(it);
  }
  if (redis_.up()) redis_.command({"ZREM", who_key(room), m}, [](std::error_code, reply) {});
  publish_event(schema::room_channel(room),
                json_text({{"type", "left"}, {"room", room}, {"nick", nick}, {"via", protocol::to_string(v)},
                           {"n", node_}}));
}

void redis_directory::renamed(const std::vector<std::string>& rooms, const std::string& old_nick,
                              const std::string& nick, protocol::via v) {
  for (const auto& room : rooms) {
    auto it = presence_.find(room);
    // Only presence there is moves: an unvalidated UDP peer has none (SPEC
    // 9), and forged datagrams must not leave members nobody ever removes.
    if (it == presence_.end() || it->second.erase(member(old_nick, v)) == 0) continue;
    it->second.insert(member(nick, v));
    if (redis_.up()) redis_.command({"ZREM", who_key(room), member(old_nick, v)}, [](std::error_code, reply) {});
    add_presence(room, {member(nick, v)});
  }
  publish_event(nick_channel,
                json_text({{"type", "nick"}, {"old", old_nick}, {"nick", nick}, {"rooms", rooms}, {"n", node_}}));
}

void redis_directory::topic_changed(const std::string& room, const topic_record& t) {
  publish_event(schema::room_channel(room), json_text({{"type", "topic"},
                                                       {"room", room},
                                                       {"text", t.text},
                                                       {"by", t.by},
                                                       {"ts", t.ts},
                                                       {"n", node_}}));
}

void redis_directory::on_room_event(const std::string& room, const std::string& payload) {
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || j.value("n", "") == node_) return;  // unreadable, or our own
  const std::string type = j.value("type", "");
  if (type == "topic") {
    if (events_.topic)
      events_.topic(room, topic_record{j.value("text", ""), j.value("by", ""), j.value("ts", std::int64_t{0})});
    return;
  }
  auto v = via_of(j.value("via", ""));
  const std::string nick = j.value("nick", "");
  if (!v || nick.empty()) return;
  if (type == "joined" && events_.joined) events_.joined(room, nick, *v);
  if (type == "left" && events_.left) events_.left(room, nick, *v);
}

void redis_directory::on_node_message(const std::string& payload) {
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return;
  const std::string type = j.value("type", "");
  if (type == "nick") {
    if (j.value("n", "") == node_ || !events_.renamed) return;
    std::vector<std::string> rooms;
    if (auto r = j.find("rooms"); r != j.end() && r->is_array())
      for (const auto& name : *r)
        if (name.is_string()) rooms.push_back(name.get<std::string>());
    events_.renamed(rooms, j.value("old", ""), j.value("nick", ""));
    return;
  }
  if (type == "lost") {
    // Another node's validated client took a weak claim of ours over.
    const std::string nick = j.value("nick", "");
    const std::string folded = protocol::fold_nick(nick);
    nicks_.erase(folded);
    weak_.erase(folded);
    if (events_.lost && !nick.empty()) events_.lost(nick);
    return;
  }
  if (type != "dm" || !events_.direct) return;
  auto v = via_of(j.value("via", ""));
  if (!v) return;
  protocol::chat_message m{{}, j.value("from", ""), *v, j.value("text", "")};
  m.to = j.value("to", "");
  m.ts = j.value("ts", std::int64_t{0});
  m.me = j.value("me", false);
  events_.direct(std::move(m));
}

// ------------------------------------------------------------------ queries

void redis_directory::who(const std::string& room,
                          std::function<void(outcome, std::vector<cluster_member>)> then) {
  if (!redis_.up()) {
    asio::post(io_, [then = std::move(then)] { then(outcome::unavailable, {}); });
    return;
  }
  redis_.command({"EVAL", who_script, "1", who_key(room)}, [then = std::move(then)](std::error_code ec, reply r) {
    if (ec || r.kind != reply::type::array) return then(outcome::unavailable, {});
    std::vector<cluster_member> out;
    for (const auto& e : r.elements) {
      const auto tab = e.str.find('\t');
      const auto tab2 = e.str.find('\t', tab == std::string::npos ? tab : tab + 1);
      if (tab == std::string::npos || tab2 == std::string::npos) continue;
      auto v = via_of(e.str.substr(tab + 1, tab2 - tab - 1));
      if (v) out.push_back({e.str.substr(0, tab), *v});
    }
    then(outcome::ok, std::move(out));
  });
}

void redis_directory::rooms(std::function<void(outcome, std::vector<cluster_room>)> then) {
  if (!redis_.up()) {
    asio::post(io_, [then = std::move(then)] { then(outcome::unavailable, {}); });
    return;
  }
  redis_.command({"EVAL", rooms_script, "1", rooms_key, std::to_string(max_rooms_listed)},
                 [then = std::move(then)](std::error_code ec, reply r) {
                   if (ec || r.kind != reply::type::array) return then(outcome::unavailable, {});
                   std::vector<cluster_room> out;
                   for (std::size_t i = 0; i + 2 < r.elements.size(); i += 3)
                     out.push_back({r.elements[i].str, static_cast<std::size_t>(r.elements[i + 1].integer),
                                    r.elements[i + 2].str});
                   then(outcome::ok, std::move(out));
                 });
}

void redis_directory::direct(const protocol::chat_message& msg, std::function<void(outcome, std::string)> then) {
  if (!redis_.up()) {
    asio::post(io_, [then = std::move(then)] { then(outcome::unavailable, {}); });
    return;
  }
  nlohmann::json j = {{"type", "dm"},  {"from", msg.from}, {"via", protocol::to_string(msg.source)},
                      {"text", msg.text}, {"ts", msg.ts},   {"to", msg.to}};
  if (msg.me) j["me"] = true;
  redis_.command({"EVAL", direct_script, "1", nick_key(msg.to), json_text(j)},
                 [then = std::move(then)](std::error_code ec, reply r) {
                   if (ec || r.is_error()) return then(outcome::unavailable, {});
                   if (r.kind != reply::type::string) return then(outcome::refused, {});
                   then(outcome::ok, r.str);
                 });
}

// ------------------------------------------------------------------ heartbeat

// Every third of the TTL: our claims and presence live another TTL. A node
// that stops (kill -9) stops this, and its entries expire.
void redis_directory::refresh_claims() {
  std::vector<std::string> nicks;
  nicks.reserve(std::min(nicks_.size(), refresh_batch));
  auto flush = [&] {
    std::vector<std::string> args{"EVAL", refresh_script, std::to_string(nicks.size())};
    for (const auto& n : nicks) args.push_back(nick_key(n));
    args.push_back(std::to_string(3 * store_.options().heartbeat.count()));
    args.push_back(node_ + "\t");
    for (const auto& n : nicks) args.push_back(claim_value(n, weak_.count(protocol::fold_nick(n)) != 0));
    redis_.command(std::move(args), [this, w = std::weak_ptr<int>(alive_), nicks = std::move(nicks)](
                                        std::error_code ec, reply r) {
      if (ec || !w.lock() || r.kind != reply::type::array) return;
      for (const auto& i : r.elements)
        if (i.integer >= 1 && static_cast<std::size_t>(i.integer) <= nicks.size())
          spdlog::warn("node {}: nick {} was claimed by another node while ours expired", node_,
                       nicks[static_cast<std::size_t>(i.integer) - 1]);
    });
    nicks.clear();
  };
  for (const auto& [folded, nick] : nicks_) {
    nicks.push_back(nick);
    if (nicks.size() == refresh_batch) flush();
  }
  if (!nicks.empty()) flush();
}

void redis_directory::heartbeat() {
  if (redis_.up()) {
    refresh_claims();
    for (const auto& [room, members] : presence_)
      add_presence(room, std::vector<std::string>(members.begin(), members.end()));
    if (guests_.size() < guest_block / 2) refill_guests();
  }
  timer_.expires_after(store_.options().heartbeat);
  timer_.async_wait([this, w = std::weak_ptr<int>(alive_)](std::error_code ec) {
    if (!ec && w.lock()) heartbeat();
  });
}

}  // namespace chatgate::redis
