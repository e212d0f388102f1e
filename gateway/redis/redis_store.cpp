#include "gateway/redis/redis_store.hpp"

#include <algorithm>

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include "gateway/ops/config.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/ops/startup_error.hpp"

namespace chatgate::redis {

namespace {

using clock = std::chrono::steady_clock;

// The counter and a range of the stream, read atomically: the counter is
// the baseline a newly subscribed room starts from.
//   KEYS: id counter, stream   ARGV: "last" | "after", after id, count
const char* const read_script = R"lua(
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] then
  local t = tonumber(string.match(top[1][1], '^(%d+)'))
  if t > last then last = t end
end
local e
if ARGV[1] == 'last' then
  e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[3])
else
  e = redis.call('XRANGE', KEYS[2], '(' .. ARGV[2] .. '-0', '+', 'COUNT', ARGV[3])
end
return {last, e}
)lua";

constexpr std::size_t max_early = 10000;  // pub/sub messages held while a room syncs
constexpr std::size_t backfill_count = 100000;
// Sends of one publish (NOSCRIPT and guard resends); each resend follows a
// reply, so this only bounds a pathological run of SCRIPT FLUSHes.
constexpr unsigned max_sends = 8;

options link_options(const store_options& o, const char* role) {
  options l;
  l.target = o.target;
  l.command_timeout = o.command_timeout;
  l.connect_timeout = o.connect_timeout;
  l.name = "chatgate:" + o.node_id + ":" + role;
  return l;
}

long long now_ms_system() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::error_code unavailable() { return make_error_code(store_errc::unavailable); }

// Stream entries ([[id, [field, value, ...]], ...]) to messages.
std::vector<schema::entry> entries(const reply& r) {
  std::vector<schema::entry> out;
  for (const auto& item : r.elements) {
    if (item.elements.size() < 2) continue;
    const auto& fields = item.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].str == "m")
        if (auto e = schema::decode_entry(fields[i + 1].str)) out.push_back(std::move(*e));
  }
  return out;
}

std::string room_of_channel(const std::string& channel) {
  // chatgate:{ROOM}:ch
  auto open = channel.find('{'), close = channel.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return channel.substr(open + 1, close - open - 1);
}

}  // namespace

struct redis_store::io_parts {
  io_parts(asio::io_context& io, const store_options& opts)
      : commands(io, link_options(opts, "commands")),
        subscription(io, link_options(opts, "subscriber")),
        heartbeat_timer(io),
        probe_timer(io) {}
  client commands;
  subscriber subscription;
  asio::steady_timer heartbeat_timer;
  asio::steady_timer probe_timer;
};

redis_store::redis_store(asio::io_context& io, store_options opts)
    : io_(io),
      opts_(std::move(opts)),
      parts_(std::make_unique<io_parts>(io, opts_)),
      commands_(parts_->commands),
      subscription_(parts_->subscription),
      heartbeat_timer_(parts_->heartbeat_timer),
      probe_timer_(parts_->probe_timer) {
  subscription_.on_message(
      [this](const std::string& ch, const std::string& payload, const std::string&) {
        on_message(ch, payload);
      });
  subscription_.on_subscribed([this](const std::string& ch) { on_subscribed(ch); });
  subscription_.subscribe(schema::node_channel(opts_.node_id));
  commands_.on_state([this](bool up) {
    // Redis may have been restarted: the script goes ahead of any publish,
    // so they run as EVALSHA at once (NOSCRIPT would send each again).
    if (up) commands_.command({"SCRIPT", "LOAD", schema::publish_script}, [](std::error_code, reply) {});
    on_connection_state();
  });
  subscription_.on_state([this](bool) { on_connection_state(); });
}

redis_store::~redis_store() {
  on_state_ = nullptr;
  if (!parts_) return;  // shut down already
  commands_.on_state({});
  subscription_.on_state({});
  close();
}

void redis_store::start() {
  commands_.start();
  subscription_.start();
  do_heartbeat();
}

void redis_store::shutdown() {
  if (!parts_) return;
  on_state_ = nullptr;
  commands_.on_state({});
  subscription_.on_state({});
  close();
  parts_.reset();
}

void redis_store::close() {
  if (!parts_) return;
  heartbeat_timer_.cancel();
  probe_timer_.cancel();
  subscription_.stop();
  commands_.stop();
}

const std::string& redis_store::last_error() const {
  return commands_.up() ? subscription_.last_error() : commands_.last_error();
}

std::chrono::milliseconds redis_store::fence() const {
  return std::max(opts_.command_timeout - std::chrono::milliseconds(1000),
                  std::chrono::milliseconds(250));
}

void redis_store::on_connection_state() {
  if (commands_.up() && !was_up_) measure_clock();
  if (!subscription_.up()) {
    // The subscription is gone: rooms resync (backfill from their last id)
    // once Redis confirms them again.
    for (auto& [name, r] : rooms_) {
      if (r.confirmed) ++r.epoch;
      r.confirmed = r.synced = false;
      fail_waiting(r);
    }
  }
  const bool now_up = up();
  // A room confirmed while the command connection was still down could
  // not read its backfill then: it does now.
  if (now_up)
    for (auto& [name, r] : rooms_)
      if (r.confirmed && !r.synced) sync_room(name);
  if (now_up != was_up_) {
    was_up_ = now_up;
    if (now_up)
      spdlog::info("node {}: redis {} up", opts_.node_id, opts_.target.redacted());
    else
      spdlog::warn("node {}: redis down: {}", opts_.node_id, last_error());
    if (on_state_) on_state_(now_up);
    if (now_up && on_up_) on_up_();
  }
}

void redis_store::measure_clock() {
  const long long before = now_ms_system();
  commands_.command({"TIME"}, [this, w = std::weak_ptr<int>(alive_), before](std::error_code ec,
                                                                             reply r) {
    if (ec || !w.lock() || r.elements.size() != 2) return;
    const long long after = now_ms_system();
    const long long redis_ms =
        std::stoll(r.elements[0].str) * 1000 + std::stoll(r.elements[1].str) / 1000;
    clock_offset_ms_ = redis_ms - (before + after) / 2;
  });
}

void redis_store::do_heartbeat() {
  if (commands_.up()) {
    measure_clock();
    commands_.command({"SET", "chatgate:node:" + opts_.node_id, "alive", "PX",
                       std::to_string(3 * opts_.heartbeat.count())},
                      [](std::error_code, reply) {});
  }
  send_probe();
  heartbeat_timer_.expires_after(opts_.heartbeat);
  heartbeat_timer_.async_wait([this, w = std::weak_ptr<int>(alive_)](std::error_code ec) {
    if (ec || !w.lock()) return;
    do_heartbeat();
  });
}

// A subscriber can go deaf without its connection closing (a proxy, a
// Redis that dropped the subscription): a probe published on the node's own
// channel must come back on the subscription within the command deadline,
// or the subscription is reset (resubscribe and backfill).
void redis_store::send_probe() {
  if (!commands_.up() || !subscription_.up() || probe_seq_ != 0) return;
  const std::uint64_t seq = ++seq_;
  probe_seq_ = seq;
  commands_.command({"PUBLISH", schema::node_channel(opts_.node_id), "probe:" + std::to_string(seq)},
                    [this, w = std::weak_ptr<int>(alive_), seq](std::error_code ec, reply) {
                      if (!w.lock() || probe_seq_ != seq) return;
                      if (ec) probe_seq_ = 0;  // Redis is away: the reconnect handles it
                    });
  probe_timer_.expires_after(opts_.command_timeout);
  probe_timer_.async_wait([this, w = std::weak_ptr<int>(alive_), seq](std::error_code ec) {
    if (ec || !w.lock() || probe_seq_ != seq) return;
    probe_seq_ = 0;
    if (!subscription_.up() || !commands_.up()) return;
    spdlog::warn("node {}: the subscription did not hear its probe: resubscribing", opts_.node_id);
    subscription_.reset();
  });
}

// ------------------------------------------------------------------ publish

void redis_store::publish(protocol::chat_message msg, published then) {
  if (!commands_.up()) {
    asio::post(io_, [then = std::move(then)] { then(unavailable(), nullptr); });
    return;
  }
  const std::uint64_t seq = ++seq_;
  pending_publish p;
  p.body = schema::encode_body(msg, opts_.node_id, seq);
  p.deadline = now_ms_system() + clock_offset_ms_ + fence().count();
  p.msg = std::move(msg);
  p.then = std::move(then);
  unreplied_[p.msg.room].push_back(seq);
  pending_.emplace(seq, std::move(p));
  send_publish(seq, false);
}

// EVALSHA, or EVAL with the whole script after Redis said NOSCRIPT (it was
// restarted or flushed its scripts). A publish sent while an earlier one of
// the same room awaits its reply names that one's result key as a guard:
// the script does nothing unless the earlier one ran. So when a NOSCRIPT
// (or a guard) stops one, every later one of the room stops too, even if
// another connection loaded the script in between, and each is sent again
// in order, behind the one before it.
void redis_store::send_publish(std::uint64_t seq, bool full_script) {
  pending_publish& p = pending_.at(seq);
  const std::string& room = p.msg.room;
  const auto& queue = unreplied_[room];
  // A first send is the newest (at the back); a resend is among the oldest.
  std::uint64_t before = 0;
  if (queue.size() > 1 && queue.back() == seq) {
    before = queue[queue.size() - 2];
  } else {
    auto at = std::find(queue.begin(), queue.end(), seq);
    if (at != queue.begin() && at != queue.end()) before = *(at - 1);
  }
  resp_command cmd(before ? 13 : 12, p.body.size() + 4 * room.size() + 200);
  cmd.arg(full_script ? "EVAL" : "EVALSHA");
  cmd.arg(full_script ? std::string_view(schema::publish_script) : schema::publish_script_sha());
  cmd.arg(before ? "4" : "3");
  cmd.arg(schema::room_id_key(room));
  cmd.arg(schema::room_log_key(room));
  cmd.arg(schema::publish_result_key(room, opts_.node_id, seq));
  if (before) cmd.arg(schema::publish_result_key(room, opts_.node_id, before));
  cmd.arg(std::to_string(p.deadline));
  cmd.arg(std::to_string(opts_.history));
  cmd.arg(schema::room_channel(room));
  cmd.arg(std::to_string(2 * opts_.command_timeout.count() + 5000));
  cmd.arg(p.body);
  cmd.arg(std::to_string(opts_.room_ttl.count()));
  ++p.sends;
  commands_.command(cmd, [this, w = std::weak_ptr<int>(alive_), seq, room](std::error_code ec, reply r) {
    if (w.lock()) on_publish_reply(seq, room, ec, r);
  });
}

void redis_store::on_publish_reply(std::uint64_t seq, const std::string& room, std::error_code ec,
                                   const reply& r) {
  auto it = pending_.find(seq);
  // The script did not run: Redis lacks it, or the publish before it has
  // not run (yet). Sent again, it keeps its place in the room's queue.
  const bool noscript = !ec && r.is_error() && r.str.rfind("NOSCRIPT", 0) == 0;
  const bool behind = !ec && r.kind == reply::type::array && !r.elements.empty() &&
                      r.elements[0].integer == 3;
  if ((noscript || behind) && it != pending_.end() && it->second.sends < max_sends) {
    send_publish(seq, noscript);
    return;
  }
  if (auto q = unreplied_.find(room); q != unreplied_.end()) {
    auto& queue = q->second;  // replies come in order: mostly the front
    if (auto at = std::find(queue.begin(), queue.end(), seq); at != queue.end()) queue.erase(at);
    if (queue.empty()) unreplied_.erase(q);
  }
  if (it == pending_.end()) return;  // delivered from the subscription already
  const bool ok = !ec && r.kind == reply::type::array && r.elements.size() >= 2 &&
                  (r.elements[0].integer == 1 || r.elements[0].integer == 2);
  if (!ok) {
    // Not run, or run too late and refused: it never surfaces.
    if (!ec && r.is_error()) spdlog::warn("node {}: publish script: {}", opts_.node_id, r.str);
    auto then = std::move(it->second.then);
    pending_.erase(it);
    then(unavailable(), nullptr);
    return;
  }
  pending_publish& p = it->second;
  p.accepted = true;
  p.body = std::string();
  p.msg.id = static_cast<std::uint64_t>(r.elements[1].integer);
  if (r.elements.size() >= 3) p.msg.ts = r.elements[2].integer;
  // Nobody here listens to the room any more: the sender's copy comes
  // from the reply.
  if (!rooms_.count(p.msg.room)) {
    auto then = std::move(p.then);
    auto msg = std::make_shared<const protocol::chat_message>(std::move(p.msg));
    pending_.erase(it);
    then({}, std::make_shared<const protocol::sealed_message>(std::move(msg)));
  }
}

// ------------------------------------------------------------------ subscription

void redis_store::on_message(const std::string& channel, const std::string& payload) {
  const std::string room = room_of_channel(channel);
  if (room.empty()) {
    // The node channel: our probes, and DMs for the directory.
    if (payload.rfind("probe:", 0) == 0) {
      if (payload == "probe:" + std::to_string(probe_seq_)) {
        probe_seq_ = 0;
        probe_timer_.cancel();
      }
      return;
    }
    if (node_sink_) node_sink_(payload);
    return;
  }
  if (payload.rfind("{\"id\":", 0) != 0) {
    // No id: a presence or topic event, not a message.
    if (event_sink_ && rooms_.count(room)) event_sink_(room, payload);
    return;
  }
  auto e = schema::decode_entry(payload);
  if (!e || e->msg.room != room) {
    spdlog::warn("node {}: unreadable message on {}", opts_.node_id, channel);
    return;
  }
  accept(room, std::move(*e));
}

void redis_store::accept(const std::string& room, schema::entry e) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  room_state& r = it->second;
  if (r.synced && r.holds == 0 && e.msg.id == r.last + 1) {
    r.last = e.msg.id;
    deliver(std::move(e));
    drain(room);
    return;
  }
  if (r.synced && e.msg.id <= r.last) return;  // a duplicate (backfill overlap)
  // Ahead of what we have, or the room is still syncing: hold it.
  if (r.early.size() < max_early) r.early.emplace(e.msg.id, std::move(e));
  if (r.synced && r.holds == 0 && !r.reading && r.early.begin()->first > r.last + 1) {
    r.synced = false;  // a gap: read what is missing
    sync_room(room);
  }
}

void redis_store::drain(const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  room_state& r = it->second;
  if (r.holds > 0) return;  // a joiner's history goes first
  while (!r.early.empty()) {
    auto first = r.early.begin();
    if (first->first <= r.last) {
      // Already delivered, or before the room's baseline; a publish of ours
      // among them still needs its callback.
      schema::entry e = std::move(first->second);
      r.early.erase(first);
      if (e.node == opts_.node_id && pending_.count(e.seq)) deliver(std::move(e));
      continue;
    }
    if (first->first != r.last + 1) break;
    schema::entry e = std::move(first->second);
    r.early.erase(first);
    r.last = e.msg.id;
    deliver(std::move(e));
  }
}

void redis_store::deliver(schema::entry e) {
  auto msg = std::make_shared<const protocol::chat_message>(std::move(e.msg));
  auto sealed = std::make_shared<const protocol::sealed_message>(msg);
  if (e.node == opts_.node_id) {
    auto it = pending_.find(e.seq);
    if (it != pending_.end()) {
      auto then = std::move(it->second.then);
      pending_.erase(it);
      then({}, std::move(sealed));
      return;
    }
  }
  if (remote_) remote_(std::move(sealed));
}

void redis_store::on_subscribed(const std::string& channel) {
  const std::string room = room_of_channel(channel);
  auto it = rooms_.find(room);
  if (room.empty() || it == rooms_.end()) return;
  it->second.confirmed = true;
  sync_room(room);
}

// Reads the counter (a new room's baseline) or what was missed since `last`
// (after a resubscribe or a gap), delivers it in order, then what arrived
// meanwhile.
void redis_store::sync_room(const std::string& room) {
  room_state& r = rooms_[room];
  if (r.reading || !r.confirmed) return;
  r.reading = true;
  const bool fresh = !r.based;
  std::vector<std::string> args{"EVAL", read_script, "2", schema::room_id_key(room),
                                schema::room_log_key(room), "after", std::to_string(r.last),
                                fresh ? "0" : std::to_string(backfill_count)};
  commands_.command(std::move(args), [this, w = std::weak_ptr<int>(alive_), room, fresh,
                                      epoch = r.epoch](std::error_code ec, reply rep) {
    if (!w.lock()) return;
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    room_state& r = it->second;
    r.reading = false;
    if (epoch != r.epoch) {
      // The subscription was lost while this read was out: what it read may
      // predate the new one. Read again once it is confirmed.
      if (r.confirmed && up()) sync_room(room);
      return;
    }
    if (ec || rep.elements.size() != 2) {
      // Redis is away; the next confirmation (after its reconnect), or
      // both connections coming back up, retries.
      fail_waiting(r);
      if (!ec && up()) {
        spdlog::warn("node {}: #{}: unexpected sync reply: {}", opts_.node_id, room, rep.str);
      }
      return;
    }
    const auto counter = static_cast<std::uint64_t>(rep.elements[0].integer);
    if (fresh) {
      r.last = counter;  // a room new to this node starts at Redis's count
    } else if (counter < r.last) {
      // Redis lost the room (restarted without persistence, flushed): its
      // ids start again; what we hold early is from the new count.
      spdlog::warn("node {}: #{}: redis counts from {} again (it had {}): its data was lost", opts_.node_id,
                   room, counter, r.last);
      r.last = counter;  // drain() drops what the new count already covers
    } else {
      for (auto& e : entries(rep.elements[1]))
        if (e.msg.id > r.last) r.early.emplace(e.msg.id, std::move(e));
      // What the stream no longer holds (trimmed) cannot be delivered.
      if (!r.early.empty() && r.early.begin()->first > r.last + 1 &&
          r.early.begin()->first <= counter) {
        spdlog::warn("node {}: #{}: messages {}-{} were trimmed before the resync", opts_.node_id,
                     room, r.last + 1, r.early.begin()->first - 1);
        r.last = r.early.begin()->first - 1;
      }
    }
    r.based = r.synced = true;
    auto waiting = std::move(r.waiting);
    for (auto& req : waiting) read_history(room, std::move(req));
    drain(room);
  });
}

void redis_store::fail_waiting(room_state& r) {
  auto waiting = std::move(r.waiting);
  for (auto& req : waiting) req.then(unavailable(), {});
}

// ------------------------------------------------------------------ history

void redis_store::history(const std::string& room, std::uint64_t after, std::size_t max_bytes,
                          history_loaded then) {
  read_request req{after, max_bytes, std::move(then)};
  if (!commands_.up() || !subscription_.up()) {
    asio::post(io_, [then = std::move(req.then)] { then(unavailable(), {}); });
    return;
  }
  auto [it, added] = rooms_.try_emplace(room);
  if (added) subscription_.subscribe(schema::room_channel(room));
  if (!it->second.synced) {
    // Read after the subscription is active, so nothing falls in between.
    it->second.waiting.push_back(std::move(req));
    return;
  }
  read_history(room, std::move(req));
}

void redis_store::read_history(const std::string& room, read_request req) {
  const bool join = req.after == 0;
  const std::size_t count = join ? opts_.history : std::max<std::size_t>(opts_.history, 1000);
  std::vector<std::string> args{"EVAL",
                                read_script,
                                "2",
                                schema::room_id_key(room),
                                schema::room_log_key(room),
                                join ? "last" : "after",
                                std::to_string(req.after),
                                std::to_string(count)};
  if (count == 0) {
    asio::post(io_, [then = std::move(req.then)] { then({}, {}); });
    return;
  }
  // Live messages of the room wait until this answer is out, and the answer
  // stops at the last id delivered live: the joiner (a member already) gets
  // every message once, the history first.
  auto held = rooms_.find(room);
  if (held != rooms_.end()) ++held->second.holds;
  commands_.command(std::move(args), [this, w = std::weak_ptr<int>(alive_), room, join,
                                      max_bytes = req.max_bytes,
                                      then = std::move(req.then)](std::error_code ec, reply r) {
    if (!w.lock()) return;
    auto state = rooms_.find(room);
    auto release = [&] {
      // Looked up again: `then` may have made the hub forget the room.
      auto st = rooms_.find(room);
      if (st == rooms_.end() || st->second.holds == 0) return;
      if (--st->second.holds == 0) drain(room);
    };
    if (ec || r.elements.size() != 2) {
      then(unavailable(), {});
      release();
      return;
    }
    auto found = entries(r.elements[1]);
    if (join) std::reverse(found.begin(), found.end());
    if (state != rooms_.end() && state->second.synced) {
      const std::uint64_t last = state->second.last;
      found.erase(std::remove_if(found.begin(), found.end(),
                                 [last](const schema::entry& e) { return e.msg.id > last; }),
                  found.end());
    }
    std::vector<protocol::stored_ptr> out;
    std::size_t bytes = 0;
    for (auto& e : found) {
      bytes += e.msg.text.size();
      if (!join && !out.empty() && bytes > max_bytes) break;
      out.push_back(std::make_shared<const protocol::chat_message>(std::move(e.msg)));
    }
    then({}, std::move(out));
    release();
  });
}

void redis_store::forget(const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  fail_waiting(it->second);
  rooms_.erase(it);
  subscription_.unsubscribe(schema::room_channel(room));
  // Our publishes to it that Redis accepted but that did not come back yet
  // complete from what the reply said.
  for (auto p = pending_.begin(); p != pending_.end();) {
    if (p->second.accepted && p->second.msg.room == room) {
      auto then = std::move(p->second.then);
      auto msg = std::make_shared<const protocol::chat_message>(std::move(p->second.msg));
      p = pending_.erase(p);
      then({}, std::make_shared<const protocol::sealed_message>(std::move(msg)));
    } else {
      ++p;
    }
  }
}

// ------------------------------------------------------------------ topics

void redis_store::set_topic(const std::string& room, topic_record topic, done then) {
  commands_.command({"HSET", "chatgate:{" + room + "}:topic", "text", topic.text, "by", topic.by,
                     "ts", std::to_string(topic.ts)},
                    [then = std::move(then)](std::error_code ec, reply r) {
                      then(ec || r.is_error() ? unavailable() : std::error_code{});
                    });
}

void redis_store::topic(const std::string& room, topic_loaded then) {
  commands_.command({"HGETALL", "chatgate:{" + room + "}:topic"},
                    [then = std::move(then)](std::error_code ec, reply r) {
                      if (ec || r.kind != reply::type::array) {
                        then(unavailable(), std::nullopt);
                        return;
                      }
                      if (r.elements.empty()) {
                        then({}, std::nullopt);
                        return;
                      }
                      topic_record t;
                      for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
                        const auto& k = r.elements[i].str;
                        const auto& v = r.elements[i + 1].str;
                        if (k == "text") t.text = v;
                        if (k == "by") t.by = v;
                        if (k == "ts") t.ts = std::atoll(v.c_str());
                      }
                      then({}, std::move(t));
                    });
}

std::unique_ptr<redis_store> make_cluster_store(asio::io_context& io, const config& cfg, metrics& m) {
  std::string error;
  auto target = parse_url(cfg.redis, error);
  if (!target) throw startup_error("--redis: " + error);
  store_options o;
  o.target = *target;
  o.node_id = cfg.node_id;
  o.history = cfg.history;
  o.command_timeout = std::chrono::milliseconds(cfg.redis_timeout_ms);
  o.connect_timeout = std::min(o.command_timeout, std::chrono::milliseconds(2000));
  o.heartbeat = std::chrono::milliseconds(cfg.redis_ttl_ms / 3);
  auto store = std::make_unique<redis_store>(io, std::move(o));
  m.node_id = cfg.node_id;
  store->on_state([&m, ups = std::uint64_t{0}](bool up) mutable {
    m.redis_up = up;
    if (up && ups++ > 0) ++m.redis_resyncs;
  });
  spdlog::info("node {}: cluster through redis {}", cfg.node_id, target->redacted());
  return store;
}

}  // namespace chatgate::redis
