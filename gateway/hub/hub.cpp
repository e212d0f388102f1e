#include "gateway/hub/hub.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "gateway/hub/outbound.hpp"
#include "protocol/names.hpp"
#include "protocol/text_command.hpp"
#include "protocol/text_sanitizer.hpp"

namespace chatgate {
namespace {

using protocol::error_code;
using protocol::ref_value;
namespace ev = protocol::ev;

// Empty rooms are remembered (history, ids) so a client that comes back
// resumes with `since`; beyond this many, the oldest is forgotten.
constexpr std::size_t max_idle_rooms = 1024;

}  // namespace

std::int64_t hub::now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

hub::hub(const config& cfg, metrics& m, std::unique_ptr<message_store> store)
    : cfg_(cfg), metrics_(m), store_(std::move(store)) {
  // Another node's messages (cluster mode) fan out like our own, minus an
  // acknowledgement: nobody here sent them.
  store_->on_remote([this](protocol::message_ptr m) { on_published({}, std::move(m), 0, nullptr); });
  find_or_create(cfg_.default_room).permanent = true;
  if (!cfg_.echo_room.empty()) find_or_create(cfg_.echo_room).permanent = true;
  // SPEC 13: reserved nicks survive a restart with --db.
  store_->reserved_nicks([this](std::error_code ec, std::vector<std::string> nicks) {
    if (ec) spdlog::error("store: cannot load the reserved nicks: {}", ec.message());
    for (const std::string& n : nicks) nicks_.reserve(n);
  });
}

hub::~hub() = default;

client_id hub::connect(participant& sink, protocol::via source, bool json, bool counted,
                       const std::string& nick, std::string token) {
  // A nick chosen before connecting (IRC registration); a guest nick when
  // none, or when it was taken meanwhile.
  // A reserved nick needs its token: the guest nick until check_token.
  std::string name;
  if (!nick.empty() && protocol::is_valid_nick(nick) && !nicks_.reserved(nick)) {
    if (counted)
      if (client* weak = weak_holder(nick, nullptr)) lose_nick(*weak, /*release_in_cluster=*/false);
    if (nicks_.claim(nick)) name = nick;
  }
  if (name.empty()) name = new_guest();
  if (cluster_ && name == nick) cluster_->hold(name);
  const client_id id = next_id_++;
  client& c = clients_
                  .try_emplace(id, id, &sink, source, json, json ? sink.json_wire() : wire::text, std::move(name),
                               rate_limiter(cfg_.burst, rate_limiter::clock::now()))
                  .first->second;
  c.counted = counted;
  counted_ += counted;
  nicks_.set_owner(c.nick, &c);
  ++metrics_.clients[metrics::at(source)];
  if (cfg_.require_auth) {
    c.waiting_auth = true;
    c.connected_s = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
  }
  if (!token.empty()) {
    // Nobody has seen this client yet: with a good token it arrives under
    // the token's nick (no nick event); a bad one gets its error first.
    const bool waiting = std::exchange(c.waiting_auth, true);
    if (check_token(c, token, nullptr)) return id;  // admitted
    c.waiting_auth = waiting;
  }
  if (c.waiting_auth) {
    send(c, ev::notice{{"authentication required: send /auth TOKEN (JSON: {\"type\":\"auth\",\"token\":...}) within " +
                        std::to_string(cfg_.auth_timeout_s) + " s"}});
    return id;
  }
  admit(c);
  return id;
}

void hub::admit(client& c) {
  c.waiting_auth = false;
  room& lobby = find_or_create(cfg_.default_room);
  enter(c, lobby, nullptr, /*announce_to_self=*/false);
  send_welcome(c);
  send_topic(c, lobby);
  send_history(c, lobby, 0, nullptr);
}

void hub::expire_unauthenticated(std::chrono::steady_clock::time_point now) {
  const auto limit = std::chrono::seconds(cfg_.auth_timeout_s);
  for (auto& [id, c] : clients_) {
    if (!c.waiting_auth || c.auth_expired || now - (started_ + std::chrono::seconds(c.connected_s)) < limit) continue;
    // close() only schedules: the client leaves clients_ on a later turn.
    c.auth_expired = true;
    metrics_.count_auth(auth_result::required);
    error(c, error_code::bad_token, "bad token: none sent within " + std::to_string(cfg_.auth_timeout_s) + " s", nullptr);
    c.sink->close();
  }
}

bool hub::nick_in_use(const std::string& nick) const {
  const client* h = holder(nick);
  return h && h->counted;
}

hub::client* hub::weak_holder(const std::string& nick, const client* asking) const {
  client* h = holder(nick);
  // Weak against the validated only: among unvalidated peers the first
  // keeps it, or forged datagrams could rename a real one at will.
  if (!h || h == asking || h->counted || (asking && !asking->counted)) return nullptr;
  return h;
}

void hub::lose_nick(client& weak, bool release_in_cluster) {
  std::string guest = new_guest();  // claimed, and held in a cluster
  nicks_.release(weak.nick);
  nicks_.set_owner(guest, &weak);
  std::string old = std::exchange(weak.nick, std::move(guest));
  if (cluster_) {
    if (release_in_cluster) cluster_->release(old);
    std::vector<std::string> rooms;
    for (const room* r : weak.rooms) rooms.push_back(r->name);
    cluster_->renamed(rooms, old, weak.nick, weak.source);
  }
  tell_renamed(weak, old, nullptr);
  error(weak, error_code::nick_taken,
        "nick taken: " + old + " (claimed by a validated client; /ok first to keep a nick)", nullptr);
}

const std::string* hub::nick_of(client_id id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : &it->second.nick;
}

std::optional<hub::person> hub::whois(const std::string& nick) const {
  const client* who = holder(nick);
  if (!who) return std::nullopt;
  person p{who->nick, who->source, {}};
  for (const room* r : who->rooms) p.rooms.push_back(r->name);
  return p;
}

void hub::disconnect(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  client& c = it->second;
  while (!c.rooms.empty()) exit(c, *c.rooms.back(), nullptr, /*tell_self=*/false);
  nicks_.release(c.nick);
  if (cluster_) cluster_->release(c.nick);
  counted_ -= c.counted;
  --metrics_.clients[metrics::at(c.source)];
  clients_.erase(it);
}

void hub::handle(client_id id, protocol::request request) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  client& c = it->second;
  ++metrics_.received[metrics::at(c.source)];
  if (!c.rate.allow(cfg_.rate, cfg_.burst, rate_limiter::clock::now())) {
    error(c, error_code::rate_limited, "slow down", request.ref);
    return;
  }
  if (c.waiting_auth && !std::holds_alternative<protocol::req::auth>(request.body) &&
      !std::holds_alternative<protocol::req::quit>(request.body)) {
    error(c, error_code::bad_token, "bad token: authenticate first with /auth TOKEN", request.ref);
    return;
  }
  std::visit([&](auto& body) { on(c, body, request.ref); }, request.body);
}

bool hub::validate(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  client& c = it->second;
  if (c.counted) return true;
  if (full()) return false;
  c.counted = true;
  ++counted_;
  if (cluster_) cluster_->hold(c.nick);  // its claim is strong from now on (SPEC 9)
  for (room* r : c.rooms) {
    tell_joined(*r, c, r->members.size());  // announced now, not when it first appeared
    if (cluster_) cluster_->joined(r->name, c.nick, c.source);
    send_topic(c, *r);  // as on a join: the topic, then the history
    send_history(c, *r, 0, nullptr);
  }
  return true;
}

void hub::switch_to_json(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.json) return;
  client& c = it->second;
  c.json = true;
  c.sink->use_json();
  c.format = c.sink->json_wire();
  if (c.waiting_auth) return;  // its welcome comes with `auth`
  send_welcome(c);
  for (room* r : c.rooms) {
    send_topic(c, *r);
    send_history(c, *r, 0, nullptr);
  }
}

void hub::post_echo(const std::string& from, std::string_view chunk) {
  if (cfg_.echo_room.empty() || overloaded_) return;
  std::string text = protocol::sanitize_text(chunk.substr(0, cfg_.max_message_bytes));
  if (text.empty()) return;
  publish(find_or_create(cfg_.echo_room),
          protocol::chat_message{cfg_.echo_room, from, protocol::via::echo, std::move(text)},
          nullptr, nullptr);
}

void hub::shutdown() {
  outbound bye(ev::bye{"server shutting down"});
  for (auto& [id, c] : clients_) {
    // WebSocket clients learn it from their close frame (1001).
    if (c.source != protocol::via::ws) send(c, bye);
    c.sink->close();
  }
}

// --- handlers ---------------------------------------------------------------

void hub::on(client& c, protocol::req::join& r, const ref_value& ref) {
  auto name = protocol::normalize_room(r.room);
  if (!name) return error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(r.room), ref);
  room& target = find_or_create(*name);
  if (is_member(target, c)) {
    send_topic(c, target, ref);
    return send_history(c, target, r.since.value_or(0), ref);
  }
  if (c.json && c.rooms.size() >= cfg_.max_rooms_per_client)
    return error(c, error_code::bad_room,
                 "too many rooms: at most " + std::to_string(cfg_.max_rooms_per_client), ref);
  if (!c.json)
    while (!c.rooms.empty()) exit(c, *c.rooms.back(), nullptr, /*tell_self=*/false);
  enter(c, target, ref, /*announce_to_self=*/true);
  send_topic(c, target, ref);
  send_history(c, target, r.since.value_or(0), ref);
}

void hub::on(client& c, protocol::req::leave& r, const ref_value& ref) {
  if (c.json) {
    if (room* target = member_room(c, r.room, ref)) exit(c, *target, ref, /*tell_self=*/true);
    return;
  }
  // Text `/leave` (`/part`): from the current room back to the default one.
  if (c.rooms.empty()) return;
  room& current = *c.rooms.front();
  if (!r.room.empty()) {
    auto name = protocol::normalize_room(r.room);
    if (!name) return error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(r.room), ref);
    if (*name != current.name) return error(c, error_code::not_in_room, "not in room: " + *name, ref);
  }
  if (current.name == cfg_.default_room)
    return error(c, error_code::bad_request, "you are in the default room #" + current.name, ref);
  exit(c, current, ref, /*tell_self=*/true);
  room& home = find_or_create(cfg_.default_room);
  enter(c, home, ref, /*announce_to_self=*/true);
  send_topic(c, home);
  send_history(c, home, 0, ref);
}

void hub::on(client& c, protocol::req::say& r, const ref_value& ref) {
  room* target = nullptr;
  client* recipient = nullptr;
  if (!r.to.empty()) {
    if (!(recipient = find_client(r.to)) && !cluster_)
      return error(c, error_code::no_such_nick, "no such nick: " + protocol::sanitize_text(r.to), ref);
  } else if (!c.json) {
    if (c.rooms.empty()) return;
    target = c.rooms.front();
  } else if (!(target = member_room(c, r.room, ref))) {
    return;
  }
  // The cap counts bytes as received, before repair.
  if (r.text.size() > cfg_.max_message_bytes)
    return error(c, error_code::too_long, "message too long", ref);
  if (overloaded_) return error(c, error_code::rate_limited, "server busy, slow down", ref);
  std::string text = protocol::sanitize_text(r.text);
  if (text.empty()) {
    if (c.json) error(c, error_code::bad_request, "text is empty", ref);
    return;
  }
  protocol::chat_message msg{target ? target->name : std::string(), c.nick, c.source, std::move(text)};
  msg.me = r.me;
  if (!target && !recipient) {
    // In a cluster, a nick not here may be on another node.
    if (!protocol::is_valid_nick(r.to))
      return error(c, error_code::no_such_nick, "no such nick: " + protocol::sanitize_text(r.to), ref);
    msg.to = r.to;
    return cluster_direct(c, std::move(msg), ref);
  }
  if (recipient) {
    msg.to = recipient->nick;
    return publish_direct(*recipient, std::move(msg), c, ref);
  }
  publish(*target, std::move(msg), &c, ref);
}

void hub::on(client& c, protocol::req::nick& r, const ref_value& ref) {
  if (!protocol::is_valid_nick(r.nick))
    return error(c, error_code::bad_nick, "bad nick: " + protocol::sanitize_text(r.nick), ref);
  const bool same_person = protocol::fold_nick(r.nick) == protocol::fold_nick(c.nick);
  if (!same_person && nicks_.reserved(r.nick) && !c.owns(protocol::fold_nick(r.nick)))
    return error(c, error_code::nick_taken, "nick taken: " + r.nick + " (reserved; needs its token)", ref);
  if (cluster_ && !same_person && cluster_granted_ != protocol::fold_nick(r.nick))
    return cluster_rename(c, r.nick, ref);  // asks the other nodes first, then comes back here
  if (!same_person && !nicks_.claim(r.nick)) {
    client* weak = weak_holder(r.nick, &c);
    if (!weak) return error(c, error_code::nick_taken, "nick taken: " + r.nick, ref);
    // In a cluster this node holds the claim and `c` takes it over.
    lose_nick(*weak, /*release_in_cluster=*/false);
    nicks_.claim(r.nick);
  }
  if (!same_person) nicks_.release(c.nick);
  nicks_.set_owner(r.nick, &c);
  std::string old = std::exchange(c.nick, r.nick);
  if (cluster_ && !same_person) cluster_renamed(c, old);
  tell_renamed(c, old, ref);
}

void hub::tell_renamed(client& c, const std::string& old, const ref_value& ref) {
  outbound notice(ev::nick{old, c.nick});
  const std::uint32_t mark = take_mark();
  c.mark = mark;
  for (room* rm : c.rooms)
    for (client* m : rm->members)
      if (m->mark != mark && m->counted) {  // no reflections (SPEC 9), as broadcast()
        m->mark = mark;
        send(*m, notice);
      }
  send(c, ev::nick{old, c.nick}, ref);
}

void hub::on(client& c, protocol::req::rooms&, const ref_value& ref) {
  if (cluster_) return cluster_rooms(c, ref);
  ev::rooms list;
  for (const auto& [name, r] : rooms_)
    if (!r.members.empty() || r.permanent)
      list.rooms.push_back({name, r.members.size(), r.topic.text});
  send(c, std::move(list), ref);
}

void hub::on(client& c, protocol::req::who& r, const ref_value& ref) {
  room* target = nullptr;
  if (!c.json) {
    if (c.rooms.empty()) return;
    target = c.rooms.front();
  } else {
    auto name = protocol::normalize_room(r.room);
    if (!name) return error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(r.room), ref);
    if (cluster_) return cluster_who(c, *name, ref);
    target = find_room(*name);
    if (!target) return send(c, ev::who{*name, {}}, ref);
  }
  if (cluster_) return cluster_who(c, target->name, ref);
  // With a limit (the page, IRC's JOIN): the first members and the room's
  // size, so joining a room of thousands does not cost a list of thousands.
  ev::who list{target->name, {}};
  const std::size_t size = target->members.size();
  const std::size_t shown = r.limit ? std::min(r.limit, size) : size;
  if (r.limit) list.count = size;
  list.members.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i)
    list.members.emplace_back(target->members[i]->nick, target->members[i]->source);
  send(c, std::move(list), ref);
}

void hub::on(client& c, protocol::req::topic& r, const ref_value& ref) {
  room* target = nullptr;
  if (!c.json) {
    if (c.rooms.empty()) return;
    target = c.rooms.front();
  } else if (!r.topic) {
    // Asking works for any room, like `who`; only members may change it.
    auto name = protocol::normalize_room(r.room);
    if (!name) return error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(r.room), ref);
    target = find_room(*name);
    if (!target) return send(c, ev::topic{*name, {}, {}, 0}, ref);
  } else if (!(target = member_room(c, r.room, ref))) {
    return;
  }
  topic_state& t = target->topic;
  if (!r.topic) return send(c, ev::topic{target->name, t.text, t.by, t.ts}, ref);
  // Capped and cleaned like a message; "" clears the topic.
  if (r.topic->size() > cfg_.max_message_bytes)
    return error(c, error_code::too_long, "topic too long", ref);
  if (overloaded_) return error(c, error_code::rate_limited, "server busy, slow down", ref);
  std::string text = protocol::sanitize_text(*r.topic);
  if (text.empty() && !r.topic->empty())
    return error(c, error_code::bad_request, "topic is empty", ref);
  const std::int64_t ts = now_ms();
  // A cleared topic is stored as none; the event still says who cleared it.
  topic_state next = text.empty() ? topic_state{} : topic_state{text, c.nick, ts};
  // Kept by the store first (SPEC 10), then shown: what anyone saw survives.
  store_->set_topic(target->name, next,
                    [this, id = c.id, name = target->name, next, ts, ref](std::error_code ec) {
                      on_topic_stored(ec, id, name, next, ts, ref);
                    });
}

void hub::on_topic_stored(std::error_code ec, client_id from, const std::string& name,
                          const topic_state& next, std::int64_t ts, const ref_value& ref) {
  auto it = clients_.find(from);
  client* setter = it == clients_.end() ? nullptr : &it->second;
  if (ec) {
    ++metrics_.store_errors;
    if (setter) error(*setter, error_code::unavailable, "unavailable, topic not set", ref);
    return;
  }
  room* target = find_room(name);
  if (!target) return;
  target->topic = next;
  const std::string by = setter ? setter->nick : next.by;
  if (cluster_) cluster_->topic_changed(name, topic_state{next.text, by, ts});
  ev::topic changed{name, next.text, by, ts};
  outbound ob(changed);
  for (client* m : target->members)
    if (m != setter) send(*m, ob);
  if (!setter) return;
  // The setter hears it too: its confirmation, with the ref.
  if (ref.is_null())
    send(*setter, ob);
  else
    send(*setter, std::move(changed), ref);
}

void hub::on(client& c, protocol::req::help&, const ref_value& ref) {
  ev::notice help;
  for (const char* const* line = protocol::help_lines(); *line; ++line) help.lines.emplace_back(*line);
  send(c, std::move(help), ref);
}

void hub::on(client& c, protocol::req::quit&, const ref_value& ref) {
  send(c, ev::bye{"bye"}, ref);
  c.sink->close();
}

void hub::on(client& c, protocol::req::json_mode&, const ref_value& ref) {
  if (c.source != protocol::via::tcp)
    return error(c, error_code::bad_request, "/json works over TCP only", ref);
  switch_to_json(c.id);
}

void hub::on(client& c, protocol::req::invalid& r, const ref_value& ref) {
  error(c, r.code, protocol::sanitize_text(r.message), ref);
}

void hub::on(client& c, protocol::req::auth& r, const ref_value& ref) {
  check_token(c, r.token, ref);
}

std::optional<protocol::token_claims> hub::check_token(client& c, const std::string& token,
                                                       const ref_value& ref) {
  if (cfg_.auth_secret.empty()) {
    metrics_.count_auth(auth_result::bad_token);
    error(c, error_code::bad_token, "bad token: this server does not accept tokens", ref);
    return std::nullopt;
  }
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  auto result = protocol::verify_token(token, cfg_.auth_secret, now_s);
  if (!result.claims) {
    metrics_.count_auth(result.reason == "expired" ? auth_result::expired : auth_result::bad_token);
    error(c, error_code::bad_token, "bad token: " + result.reason, ref);
    return std::nullopt;
  }
  const std::string& sub = result.claims->sub;
  const std::string folded = protocol::fold_nick(sub);
  if (protocol::fold_nick(c.nick) != folded && nicks_.taken(sub)) {
    client* holder = this->holder(sub);
    if (holder == &c) holder = nullptr;
    if (holder && holder->owns(folded)) {
      error(c, error_code::nick_taken, "nick taken: " + sub + " is already connected with its token", ref);
      return std::nullopt;
    }
    if (holder) {
      // Whoever took the nick without its token gives it up.
      std::string guest = new_guest();
      nicks_.release(guest);
      protocol::req::nick rename{guest};
      on(*holder, rename, nullptr);
      error(*holder, error_code::nick_taken, "nick taken: " + sub + " was claimed by its owner", nullptr);
    }
  }
  metrics_.count_auth(auth_result::ok);
  if (nicks_.reserve(sub)) store_->reserve_nick(sub);
  // Every time, not only when new here: another node, or a Redis that lost
  // its data, may not know it yet (the write is idempotent).
  if (cluster_) cluster_->reserve(sub);
  c.owner = std::make_unique<std::string>(folded);
  if (c.waiting_auth) {
    // Nobody has seen this client yet: it arrives under its own name.
    nicks_.release(c.nick);
    nicks_.claim(sub, &c);
    if (cluster_) {
      cluster_->release(c.nick);
      cluster_->hold(sub);
    }
    c.nick = sub;
    admit(c);
  } else {
    protocol::req::nick rename{sub};
    on(c, rename, ref);
  }
  return result.claims;
}

// --- delivery ---------------------------------------------------------------

void hub::send(client& c, outbound& ob) {
  const shared_bytes& bytes = ob.bytes(c.format);
  if (!bytes) return;
  ++metrics_.delivered[metrics::at(c.source)];
  c.sink->deliver(bytes);
}

void hub::send(client& c, protocol::event e, const ref_value& ref) {
  outbound ob(std::move(e), ref);
  send(c, ob);
}

void hub::error(client& c, error_code code, std::string message, const ref_value& ref) {
  send(c, ev::error{code, std::move(message)}, ref);
}

void hub::broadcast(room& r, outbound& ob, const client* except) {
  // Unvalidated UDP peers get no notices: each would be a reflection (SPEC 9).
  for (client* m : r.members)
    if (m != except && m->counted) send(*m, ob);
}

void hub::publish(room& r, protocol::chat_message msg, client* sender, const ref_value& ref) {
  msg.room = r.name;
  msg.ts = now_ms();
  const client_id from = sender ? sender->id : 0;
  // The store may answer later (SQLite commits first, Redis assigns the id):
  // look the room and the sender up again then.
  store_->publish(std::move(msg), [this, from, ref](std::error_code ec, protocol::message_ptr sealed) {
    on_published(ec, std::move(sealed), from, ref);
  });
}

void hub::on_published(std::error_code ec, protocol::message_ptr sealed, client_id from,
                       const ref_value& ref) {
  auto it = from ? clients_.find(from) : clients_.end();
  client* sender = it == clients_.end() ? nullptr : &it->second;
  if (ec) {
    ++metrics_.store_errors;
    if (!store_failing_) spdlog::error("store: {}: messages are refused as unavailable", ec.message());
    store_failing_ = true;
    if (sender) error(*sender, error_code::unavailable, "unavailable, not sent", ref);
    return;
  }
  if (store_failing_) spdlog::info("store: writing again");
  store_failing_ = false;
  ++metrics_.messages;
  metrics_.history_bytes = store_->history_bytes();
  room* r = find_room(sealed->msg->room);
  if (!r) return;
  outbound ob(ev::message{sealed});
  for (client* m : r->members) {
    if (m != sender) {
      send(*m, ob);
    } else if (m->json && m->sink->echoes_own_messages()) {
      // The sender's copy is its acknowledgement; text senders get none.
      if (ref.is_null())
        send(*m, ob);
      else
        send(*m, ev::message{sealed}, ref);
    }
  }
}

void hub::publish_direct(client& to, protocol::chat_message msg, client& sender,
                         const ref_value& ref) {
  // Not numbered and not stored: a direct message is between two people.
  msg.ts = now_ms();
  auto sealed = std::make_shared<const protocol::sealed_message>(std::move(msg));
  ++metrics_.direct_messages;
  outbound ob(ev::message{sealed});
  if (&to != &sender) send(to, ob);
  // The JSON sender's copy is its acknowledgement; text senders get none,
  // unless they wrote to themselves.
  if (&to != &sender && !(sender.json && sender.sink->echoes_own_messages())) return;
  if (ref.is_null())
    send(sender, ob);
  else
    send(sender, ev::message{sealed}, ref);
}

hub::client* hub::find_client(const std::string& nick) {
  if (!protocol::is_valid_nick(nick)) return nullptr;
  client* c = holder(nick);
  // A client still waiting to authenticate (--require-auth) is nobody yet.
  return c && !c->waiting_auth ? c : nullptr;
}

void hub::send_topic(client& c, room& r, const ref_value& join_ref) {
  // After a join, the topic comes just before the history, when one is set.
  // Without the join's ref: a join is still answered by joined + history,
  // as clients that count on those two expect. IRC sessions read their own
  // refs to answer a JOIN with 332/333 instead of a TOPIC change.
  // Like the history, it waits for an unvalidated UDP peer's /ok (SPEC 9):
  // a long topic would eat the budget its conversation needs.
  if (r.topic.text.empty() || !c.counted) return;
  const bool irc = c.source == protocol::via::irc;
  send(c, ev::topic{r.name, r.topic.text, r.topic.by, r.topic.ts}, irc ? join_ref : ref_value());
}

void hub::send_history(client& c, room& r, std::uint64_t after, const ref_value& ref) {
  if (!c.counted) return;  // an unvalidated UDP peer: no replay (SPEC 9)
  send_presence(c, r);
  // A reply bigger than half the client's queue would get it dropped.
  store_->history(r.name, after, cfg_.max_queue_bytes / 2,
                  [this, id = c.id, name = r.name, ref](std::error_code ec,
                                                        std::vector<protocol::stored_ptr> messages) {
                    auto it = clients_.find(id);
                    if (it == clients_.end()) return;
                    if (ec) return error(it->second, error_code::unavailable, "history unavailable", ref);
                    send(it->second, ev::history{name, std::move(messages)}, ref);
                  });
}

void hub::send_welcome(client& c) {
  ev::welcome w{c.nick, {}, cfg_.presence_limit};
  for (const room* r : c.rooms) w.rooms.push_back(r->name);
  send(c, std::move(w));
}

void hub::send_presence(client& c, room& r) {
  const std::size_t size = r.members.size();
  if (announce_each(size, cfg_.presence_limit)) return;
  if (c.format != wire::text) return send(c, ev::presence{r.name, size});
  send(c, ev::notice{{"#" + r.name + " has " + std::to_string(size) + " members; above " +
                      std::to_string(cfg_.presence_limit) +
                      " joins and leaves are not announced (/who lists everyone)"}});
}

void hub::flush_presence() {
  for (auto& [name, r] : rooms_) {
    if (!r.presence.pending()) continue;
    outbound ob(r.presence.take(name, r.members.size()));
    broadcast(r, ob);
  }
}

void hub::tell_joined(room& r, client& c, std::size_t members) {
  if (!announce_each(members, cfg_.presence_limit)) return r.presence.joined();
  outbound joined(ev::joined{r.name, c.nick, c.source});
  broadcast(r, joined, &c);
}

void hub::tell_left(room& r, client& c, std::size_t members) {
  if (!announce_each(members, cfg_.presence_limit)) return r.presence.left();
  outbound left(ev::left{r.name, c.nick, c.source});
  broadcast(r, left);
}

// --- rooms ------------------------------------------------------------------

hub::room& hub::find_or_create(const std::string& name) {
  auto [it, created] = rooms_.try_emplace(name);
  room& r = it->second;
  if (created) {
    r.name = name;
    r.idle_pos = idle_rooms_.end();
    metrics_.rooms = rooms_.size();
    // A topic kept from before (a restart, another node) comes back with the room.
    store_->topic(name, [this, name](std::error_code ec, std::optional<topic_record> kept) {
      room* still = find_room(name);
      if (ec || !kept || !still || !still->topic.text.empty()) return;
      still->topic = std::move(*kept);
    });
  }
  return r;
}

hub::room* hub::find_room(const std::string& name) {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second;
}

bool hub::is_member(const room& r, const client& c) const {
  return std::find(c.rooms.begin(), c.rooms.end(), &r) != c.rooms.end();
}

void hub::add_member(room& r, client& c) {
  if (r.idle_pos != idle_rooms_.end()) {
    idle_rooms_.erase(r.idle_pos);
    r.idle_pos = idle_rooms_.end();
  }
  r.members.push_back(&c);
  c.rooms.push_back(&r);
}

void hub::remove_member(room& r, client& c) {
  r.members.erase(std::find(r.members.begin(), r.members.end(), &c));
  c.rooms.erase(std::find(c.rooms.begin(), c.rooms.end(), &r));
  if (!r.members.empty() || r.permanent) return;
  if (!cfg_.redis.empty()) return forget_room(r.name);  // SPEC 11: subscribed only while members are here
  r.idle_pos = idle_rooms_.insert(idle_rooms_.end(), &r);
  if (idle_rooms_.size() <= max_idle_rooms) return;
  const std::string oldest = idle_rooms_.front()->name;
  idle_rooms_.pop_front();
  forget_room(oldest);
}

void hub::forget_room(const std::string& name) {
  store_->forget(name);
  metrics_.history_bytes = store_->history_bytes();
  rooms_.erase(name);
  metrics_.rooms = rooms_.size();
}

void hub::enter(client& c, room& r, const ref_value& ref, bool announce_to_self) {
  add_member(r, c);
  // Forged UDP sources come and go by the thousand: not announced (SPEC 9).
  if (c.counted) tell_joined(r, c, r.members.size());
  if (c.counted && cluster_) cluster_->joined(r.name, c.nick, c.source);
  if (announce_to_self) send(c, ev::joined{r.name, c.nick, c.source}, ref);
}

void hub::exit(client& c, room& r, const ref_value& ref, bool tell_self) {
  const std::string name = r.name;
  const std::size_t members = r.members.size();
  remove_member(r, c);  // may forget the room: use `name` from here on
  if (room* still = find_room(name); still && c.counted) tell_left(*still, c, members);
  if (c.counted && cluster_) cluster_->left(name, c.nick, c.source);
  if (tell_self) send(c, ev::left{name, c.nick, c.source}, ref);
}

hub::room* hub::member_room(client& c, const std::string& room_name, const ref_value& ref) {
  auto name = protocol::normalize_room(room_name);
  if (!name) {
    error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(room_name), ref);
    return nullptr;
  }
  room* r = find_room(*name);
  if (!r || !is_member(*r, c)) {
    error(c, error_code::not_in_room, "not in room: " + *name, ref);
    return nullptr;
  }
  return r;
}

}  // namespace chatgate
