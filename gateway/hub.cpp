#include "gateway/hub.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "gateway/outbound.hpp"
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

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

hub::hub(const config& cfg, metrics& m, std::unique_ptr<message_store> store)
    : cfg_(cfg), metrics_(m), store_(std::move(store)) {
  find_or_create(cfg_.default_room).permanent = true;
  if (!cfg_.echo_room.empty()) find_or_create(cfg_.echo_room).permanent = true;
}

hub::~hub() = default;

client_id hub::connect(participant& sink, protocol::via source, bool json) {
  const client_id id = next_id_++;
  auto owned = std::make_unique<client>(client{id, &sink, source, json, json ? sink.json_wire() : wire::text, nicks_.claim_guest(), {},
                                               rate_limiter(cfg_.burst, rate_limiter::clock::now())});
  client& c = *owned;
  clients_.emplace(id, std::move(owned));
  ++metrics_.clients[metrics::at(source)];
  room& lobby = find_or_create(cfg_.default_room);
  enter(c, lobby, nullptr, /*announce_to_self=*/false);
  send_welcome(c);
  send_history(c, lobby, 0, nullptr);
  return id;
}

void hub::disconnect(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  client& c = *it->second;
  while (!c.rooms.empty()) exit(c, *c.rooms.back(), nullptr, /*tell_self=*/false);
  nicks_.release(c.nick);
  --metrics_.clients[metrics::at(c.source)];
  clients_.erase(it);
}

void hub::handle(client_id id, protocol::request request) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  client& c = *it->second;
  ++metrics_.received[metrics::at(c.source)];
  if (!c.rate.allow(cfg_.rate, cfg_.burst, rate_limiter::clock::now())) {
    error(c, error_code::rate_limited, "slow down", request.ref);
    return;
  }
  std::visit([&](auto& body) { on(c, body, request.ref); }, request.body);
}

void hub::switch_to_json(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second->json) return;
  client& c = *it->second;
  c.json = true;
  c.sink->use_json();
  c.format = c.sink->json_wire();
  send_welcome(c);
  for (room* r : c.rooms) send_history(c, *r, 0, nullptr);
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
    if (c->source != protocol::via::ws) send(*c, bye);
    c->sink->close();
  }
}

// --- handlers ---------------------------------------------------------------

void hub::on(client& c, protocol::req::join& r, const ref_value& ref) {
  auto name = protocol::normalize_room(r.room);
  if (!name) return error(c, error_code::bad_room, "bad room: " + protocol::sanitize_text(r.room), ref);
  room& target = find_or_create(*name);
  if (is_member(target, c)) return send_history(c, target, r.since.value_or(0), ref);
  if (c.json && c.rooms.size() >= cfg_.max_rooms_per_client)
    return error(c, error_code::bad_room,
                 "too many rooms: at most " + std::to_string(cfg_.max_rooms_per_client), ref);
  if (!c.json)
    while (!c.rooms.empty()) exit(c, *c.rooms.back(), nullptr, /*tell_self=*/false);
  enter(c, target, ref, /*announce_to_self=*/true);
  send_history(c, target, r.since.value_or(0), ref);
}

void hub::on(client& c, protocol::req::leave& r, const ref_value& ref) {
  if (room* target = member_room(c, r.room, ref))
    exit(c, *target, ref, /*tell_self=*/true);
}

void hub::on(client& c, protocol::req::say& r, const ref_value& ref) {
  room* target = nullptr;
  if (!c.json) {
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
  protocol::chat_message msg{target->name, c.nick, c.source, std::move(text)};
  msg.me = r.me;
  publish(*target, std::move(msg), &c, ref);
}

void hub::on(client& c, protocol::req::nick& r, const ref_value& ref) {
  if (!protocol::is_valid_nick(r.nick))
    return error(c, error_code::bad_nick, "bad nick: " + protocol::sanitize_text(r.nick), ref);
  const bool same_person = protocol::fold_nick(r.nick) == protocol::fold_nick(c.nick);
  if (!same_person && !nicks_.claim(r.nick))
    return error(c, error_code::nick_taken, "nick taken: " + r.nick, ref);
  if (!same_person) nicks_.release(c.nick);
  std::string old = std::exchange(c.nick, r.nick);
  // Everyone who shares a room hears it once; the renamer gets the ref.
  outbound notice(ev::nick{old, c.nick});
  const std::uint64_t mark = next_mark_++;
  c.mark = mark;
  for (room* rm : c.rooms)
    for (client* m : rm->members)
      if (m->mark != mark) {
        m->mark = mark;
        send(*m, notice);
      }
  send(c, ev::nick{old, c.nick}, ref);
}

void hub::on(client& c, protocol::req::rooms&, const ref_value& ref) {
  ev::rooms list;
  for (const auto& [name, r] : rooms_)
    if (!r.members.empty() || r.permanent) list.rooms.emplace_back(name, r.members.size());
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
    target = find_room(*name);
    if (!target) return send(c, ev::who{*name, {}}, ref);
  }
  ev::who list{target->name, {}};
  list.members.reserve(target->members.size());
  for (const client* m : target->members) list.members.emplace_back(m->nick, m->source);
  send(c, std::move(list), ref);
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
  for (client* m : r.members)
    if (m != except) send(*m, ob);
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
  client* sender = it == clients_.end() ? nullptr : it->second.get();
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
    } else if (m->json) {
      // The sender's copy is its acknowledgement; text senders get none.
      if (ref.is_null())
        send(*m, ob);
      else
        send(*m, ev::message{sealed}, ref);
    }
  }
}

void hub::send_history(client& c, room& r, std::uint64_t after, const ref_value& ref) {
  // A reply bigger than half the client's queue would get it dropped.
  store_->history(r.name, after, cfg_.max_queue_bytes / 2,
                  [this, id = c.id, name = r.name, ref](std::error_code ec,
                                                        std::vector<protocol::stored_ptr> messages) {
                    auto it = clients_.find(id);
                    if (it == clients_.end()) return;
                    if (ec) return error(*it->second, error_code::unavailable, "history unavailable", ref);
                    send(*it->second, ev::history{name, std::move(messages)}, ref);
                  });
}

void hub::send_welcome(client& c) {
  ev::welcome w{c.nick, {}};
  for (const room* r : c.rooms) w.rooms.push_back(r->name);
  send(c, std::move(w));
}

// --- rooms ------------------------------------------------------------------

hub::room& hub::find_or_create(const std::string& name) {
  auto [it, created] = rooms_.try_emplace(name);
  room& r = it->second;
  if (created) {
    r.name = name;
    r.idle_pos = idle_rooms_.end();
    metrics_.rooms = rooms_.size();
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
  r.idle_pos = idle_rooms_.insert(idle_rooms_.end(), &r);
  if (idle_rooms_.size() <= max_idle_rooms) return;
  const std::string oldest = idle_rooms_.front()->name;
  idle_rooms_.pop_front();
  store_->forget(oldest);
  metrics_.history_bytes = store_->history_bytes();
  rooms_.erase(oldest);
  metrics_.rooms = rooms_.size();
}

void hub::enter(client& c, room& r, const ref_value& ref, bool announce_to_self) {
  add_member(r, c);
  outbound joined(ev::joined{r.name, c.nick, c.source});
  broadcast(r, joined, &c);
  if (announce_to_self) send(c, ev::joined{r.name, c.nick, c.source}, ref);
}

void hub::exit(client& c, room& r, const ref_value& ref, bool tell_self) {
  const std::string name = r.name;
  remove_member(r, c);  // may forget the room: use `name` from here on
  if (room* still = find_room(name)) {
    outbound left(ev::left{name, c.nick, c.source});
    broadcast(*still, left);
  }
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
