// The hub's side of a cluster (SPEC 11, --redis): what it asks of the other
// nodes (gateway/hub/cluster.hpp) and what it does with their events. Kept
// apart from hub.cpp, which only calls in here where a node alone is not
// enough.
#include <algorithm>

#include "gateway/hub/hub.hpp"
#include "gateway/hub/outbound.hpp"
#include "protocol/names.hpp"
#include "protocol/text_sanitizer.hpp"

namespace chatgate {
namespace {

using protocol::error_code;
using protocol::ref_value;
namespace ev = protocol::ev;

}  // namespace

void hub::join_cluster(cluster& cl) {
  cluster_ = &cl;
  cluster::events e;
  e.joined = [this](const std::string& room_name, const std::string& nick, protocol::via v) {
    if (room* r = find_room(room_name)) {
      // Above --presence-limit (counted with this node's members only) a
      // remote join is counted like a local one (presence.hpp).
      if (!announce_each(r->members.size(), cfg_.presence_limit)) return r->presence.joined();
      outbound ob(ev::joined{room_name, nick, v});
      broadcast(*r, ob);
    }
  };
  e.left = [this](const std::string& room_name, const std::string& nick, protocol::via v) {
    if (room* r = find_room(room_name)) {
      if (!announce_each(r->members.size(), cfg_.presence_limit)) return r->presence.left();
      outbound ob(ev::left{room_name, nick, v});
      broadcast(*r, ob);
    }
  };
  e.renamed = [this](const std::vector<std::string>& rooms, const std::string& old_nick, const std::string& nick) {
    // Once per client, however many of the renamer's rooms it shares.
    outbound notice(ev::nick{old_nick, nick});
    const std::uint32_t mark = take_mark();
    for (const auto& name : rooms)
      if (room* r = find_room(name))
        for (client* m : r->members)
          if (m->mark != mark && m->counted) {
            m->mark = mark;
            send(*m, notice);
          }
  };
  e.topic = [this](const std::string& room_name, const topic_record& t) {
    room* r = find_room(room_name);
    if (!r) return;
    r->topic = t.text.empty() ? topic_record{} : t;
    outbound ob(ev::topic{room_name, t.text, t.by, t.ts});
    broadcast(*r, ob);
  };
  e.direct = [this](protocol::chat_message m) {
    client* to = find_client(m.to);
    if (!to) return;  // gone since the sender's node looked
    m.to = to->nick;
    ++metrics_.direct_messages;
    send(*to, ev::message{std::make_shared<const protocol::sealed_message>(std::move(m))});
  };
  e.lost = [this](const std::string& nick) {
    // The claim is the other node's now: whoever has the nick here gives it up.
    if (client* h = holder(nick)) lose_nick(*h, /*release_in_cluster=*/true);
  };
  cl.on_events(std::move(e));
}

std::string hub::new_guest() {
  if (cluster_) {
    // Numbers from a cluster-wide counter, so two nodes never hand out the
    // same guest nick; the local lowest-free one only while Redis is away.
    std::string guest = cluster_->next_guest();
    while (!guest.empty() && !nicks_.claim(guest)) guest = cluster_->next_guest();
    if (guest.empty()) guest = nicks_.claim_guest();
    cluster_->hold(guest);
    return guest;
  }
  return nicks_.claim_guest();
}

void hub::cluster_rename(client& c, const std::string& nick, const ref_value& ref) {
  const bool owner = c.owns(protocol::fold_nick(nick));
  cluster_->claim(nick, owner, /*weak=*/!c.counted, [this, id = c.id, nick, ref](cluster::outcome o) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
      if (o == cluster::outcome::ok) cluster_->release(nick);
      return;
    }
    client& c = it->second;
    if (o == cluster::outcome::unavailable)
      return error(c, error_code::unavailable, "unavailable, nick not changed", ref);
    if (o == cluster::outcome::refused) return error(c, error_code::nick_taken, "nick taken: " + nick, ref);
    // Granted cluster-wide: the local checks run again (a client here may
    // have taken it meanwhile), without asking the cluster twice.
    cluster_granted_ = protocol::fold_nick(nick);
    protocol::req::nick again{nick};
    on(c, again, ref);
    cluster_granted_.clear();
  });
}

void hub::claim_for_registration(const std::string& nick, std::function<bool(cluster::outcome)> then) {
  // Not the owner: a nick a token reserved is refused (the token itself,
  // when good, names the nick and needs no claim).
  cluster_->claim(nick, false, /*weak=*/false, [this, nick, then = std::move(then)](cluster::outcome o) {
    const bool used = then(o);
    // A client here that took it meanwhile holds the claim now.
    if (!used && o == cluster::outcome::ok && cluster_ && !holder(nick)) cluster_->release(nick);
  });
}

void hub::cluster_renamed(client& c, const std::string& old_nick) {
  cluster_->release(old_nick);
  std::vector<std::string> rooms;
  for (const room* r : c.rooms) rooms.push_back(r->name);
  cluster_->renamed(rooms, old_nick, c.nick, c.source);
}

void hub::cluster_who(client& c, const std::string& room_name, const ref_value& ref) {
  cluster_->who(room_name, [this, id = c.id, room_name, ref](cluster::outcome o, std::vector<cluster_member> found) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    if (o != cluster::outcome::ok) return error(it->second, error_code::unavailable, "unavailable", ref);
    ev::who list{room_name, {}};
    for (auto& m : found) list.members.emplace_back(std::move(m.nick), m.source);
    send(it->second, std::move(list), ref);
  });
}

void hub::cluster_rooms(client& c, const ref_value& ref) {
  cluster_->rooms([this, id = c.id, ref](cluster::outcome o, std::vector<cluster_room> found) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    if (o != cluster::outcome::ok) return error(it->second, error_code::unavailable, "unavailable", ref);
    ev::rooms list;
    for (auto& r : found) list.rooms.push_back({std::move(r.name), r.members, std::move(r.topic)});
    // The permanent rooms are listed even when empty, as on a single node.
    for (const auto& [name, r] : rooms_)
      if (r.permanent && std::none_of(list.rooms.begin(), list.rooms.end(),
                                      [&](const ev::room_info& i) { return i.room == name; }))
        list.rooms.push_back({name, 0, r.topic.text});
    std::sort(list.rooms.begin(), list.rooms.end(),
              [](const ev::room_info& a, const ev::room_info& b) { return a.room < b.room; });
    send(it->second, std::move(list), ref);
  });
}

void hub::cluster_direct(client& sender, protocol::chat_message msg, const ref_value& ref) {
  msg.ts = now_ms();
  cluster_->direct(msg, [this, id = sender.id, msg, ref](cluster::outcome o, std::string to) mutable {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    client& c = it->second;
    if (o == cluster::outcome::unavailable) return error(c, error_code::unavailable, "unavailable, not sent", ref);
    if (o == cluster::outcome::refused)
      return error(c, error_code::no_such_nick, "no such nick: " + protocol::sanitize_text(msg.to), ref);
    ++metrics_.direct_messages;
    // The JSON sender's copy is its acknowledgement; text senders get none.
    if (!(c.json && c.sink->echoes_own_messages())) return;
    msg.to = std::move(to);
    send(c, ev::message{std::make_shared<const protocol::sealed_message>(std::move(msg))}, ref);
  });
}

}  // namespace chatgate
