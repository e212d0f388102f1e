// The hub: clients, rooms, nicks and the one dispatch of requests.
//
// It runs on the event loop thread only, never sees a socket, and never
// blocks: it hands encoded bytes to participants, which queue them.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/ops/config.hpp"
#include "gateway/hub/cluster.hpp"
#include "gateway/store/message_store.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/hub/nick_registry.hpp"
#include "gateway/hub/participant.hpp"
#include "gateway/hub/pointer_list.hpp"
#include "gateway/hub/presence.hpp"
#include "gateway/hub/rate_limiter.hpp"
#include "protocol/event.hpp"
#include "protocol/jwt.hpp"
#include "protocol/request.hpp"

namespace chatgate {

using client_id = std::uint64_t;

class outbound;

class hub {
 public:
  hub(const config& cfg, metrics& m, std::unique_ptr<message_store> store);
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // --max-clients reached: transports refuse new clients. Uncounted
  // clients (unvalidated UDP peers, SPEC 9) do not count.
  bool full() const { return counted_ >= cfg_.max_clients; }
  std::size_t client_count() const { return clients_.size(); }

  // Registers a client, sends it its welcome and the default room's
  // history, and tells the room. `json` picks the wire format. An
  // uncounted client (an unvalidated UDP peer) is outside --max-clients
  // and gets no history and no joined/left notices until validate().
  // `nick`, when valid and free, is claimed instead of a guest nick.
  // `token`, if any, was presented with the connection (WebSocket
  // `?token=`). With --require-auth and no good token the client waits, in
  // no room, for `auth` (SPEC 13).
  client_id connect(participant& sink, protocol::via source, bool json, bool counted = true,
                    const std::string& nick = {}, std::string token = {});
  // The client proved its address: it counts from now on and gets its
  // room's history. False (nothing changes) when the server is full.
  bool validate(client_id id);

  // Queries for transports whose answers do not fit an event (IRC
  // registration and WHOIS).
  struct person {
    std::string nick;
    protocol::via source;
    std::vector<std::string> rooms;
  };
  // Held by someone a validated client cannot take it from: a nick an
  // unvalidated UDP peer holds (a weak claim, SPEC 9) is not in use.
  bool nick_in_use(const std::string& nick) const;
  const std::string* nick_of(client_id id) const;  // null once gone
  std::optional<person> whois(const std::string& nick) const;
  // The connection is gone: leaves its rooms, frees its nick. Idempotent.
  void disconnect(client_id id);

  // The one dispatch: every line or frame a client sends ends up here,
  // counted toward its rate limit.
  void handle(client_id id, protocol::request request);
  // A TCP connection whose first byte is '{' speaks NDJSON from then on.
  void switch_to_json(client_id id);

  // Echo traffic, posted to the echo room as `via: "echo"`.
  void post_echo(const std::string& from, std::string_view chunk);

  // Tells every client the server is going away and closes them.
  void shutdown();

  // --require-auth: closes clients that did not authenticate within
  // --auth-timeout-s of connecting. Called about once a second.
  void expire_unauthenticated(std::chrono::steady_clock::time_point now);

  // Rooms above --presence-limit: sends each one whose members came or went
  // since the last call one `presence` event. Called about once a second.
  void flush_presence();
  // Cluster mode (SPEC 11): nicks, presence, events and direct messages
  // across nodes go through `c`; leave_cluster() before `c` goes.
  void join_cluster(cluster& c);
  void leave_cluster() { cluster_ = nullptr; }
  bool clustered() const { return cluster_ != nullptr; }
  // IRC registration in a cluster: the nick is asked of every node before
  // the client exists (connect() only holds what it was given). `then` runs
  // on the loop and says whether the nick was used; a granted claim that
  // was not is given back. Cluster mode only.
  void claim_for_registration(const std::string& nick, std::function<bool(cluster::outcome)> then);

  // Output is behind (see backpressure): refuse new chat messages for now.
  void set_overloaded(bool on) { overloaded_ = on; }

 private:
  // Milliseconds since the epoch: a message's `ts`.
  static std::int64_t now_ms();

  struct room;

  // One allocation a client: this record, inside its clients_ node (120
  // bytes with the node, one 128-byte malloc chunk; issue 16). Its nick's
  // entry in nicks_ points back here.
  struct client {
    client(client_id i, participant* s, protocol::via src, bool j, wire f, std::string n, rate_limiter r)
        : id(i), sink(s), nick(std::move(n)), rate(r), source(src), json(j), format(f) {}

    client_id id;
    participant* sink;
    std::string nick;
    pointer_list<room> rooms;  // text clients: exactly one
    rate_limiter rate;
    // SPEC 13: the (folded) nick a token proved this client owns; null: none.
    std::unique_ptr<std::string> owner{};
    std::uint32_t mark = 0;  // fan-out dedupe (nick changes)
    // --require-auth: when it connected, in seconds of the hub's clock.
    std::uint32_t connected_s = 0;
    protocol::via source;
    bool json;
    wire format;  // text, or how this client frames JSON
    // Whether it still has to authenticate (--require-auth).
    bool waiting_auth = false;
    bool auth_expired = false;
    bool counted = true;  // toward --max-clients; false: an unvalidated UDP peer

    bool owns(const std::string& folded) const { return owner && *owner == folded; }
  };

  // A room's topic (SPEC 12); empty text: none. The one place topic state
  // lives, so a store can load and save it.
  using topic_state = topic_record;

  struct room {
    std::string name;
    std::vector<client*> members;
    topic_state topic;
    bool permanent = false;  // the default and echo rooms always exist
    std::list<room*>::iterator idle_pos{};  // position among empty rooms
    presence_tally presence{};  // joins and leaves counted, not announced
  };

  // Handlers, one per request type.
  void on(client& c, protocol::req::join& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::leave& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::say& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::nick& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::rooms& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::who& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::topic& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::help& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::quit& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::json_mode& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::invalid& r, const protocol::ref_value& ref);
  void on(client& c, protocol::req::auth& r, const protocol::ref_value& ref);
  // The token checked; on success `c` owns its sub from now on.
  std::optional<protocol::token_claims> check_token(client& c, const std::string& token,
                                                    const protocol::ref_value& ref);
  // A waiting client authenticated: into the default room, welcome, history.
  void admit(client& c);

  void send(client& c, outbound& ob);
  void send(client& c, protocol::event e, const protocol::ref_value& ref = nullptr);
  void error(client& c, protocol::error_code code, std::string message,
             const protocol::ref_value& ref);
  void broadcast(room& r, outbound& ob, const client* except = nullptr);

  // Room membership; the caller sends the notices.
  room& find_or_create(const std::string& name);
  room* find_room(const std::string& name);
  void add_member(room& r, client& c);
  void remove_member(room& r, client& c);
  void forget_room(const std::string& name);  // the store and the hub let it go
  bool is_member(const room& r, const client& c) const;
  void enter(client& c, room& r, const protocol::ref_value& ref, bool announce_to_self);
  void exit(client& c, room& r, const protocol::ref_value& ref, bool tell_self);
  // A room the client named and is in; otherwise sends bad_room or
  // not_in_room and returns null.
  room* member_room(client& c, const std::string& room_name, const protocol::ref_value& ref);

  void publish(room& r, protocol::chat_message msg, client* sender,
               const protocol::ref_value& ref);
  // A direct message: to its recipient, and to a JSON sender as its ack.
  void publish_direct(client& to, protocol::chat_message msg, client& sender,
                      const protocol::ref_value& ref);
  // The client with this nick (any letter case), or null.
  client* find_client(const std::string& nick);
  // A fresh fan-out mark (never 0, which every new client has).
  std::uint32_t take_mark() {
    if (next_mark_ == 0) next_mark_ = 1;
    return next_mark_++;
  }
  // Whoever holds this nick (any letter case), authenticated or not.
  client* holder(const std::string& nick) const { return static_cast<client*>(nicks_.owner(nick)); }
  // SPEC 9: an unvalidated UDP peer's nick is a weak claim (one forged
  // datagram makes such a peer): a validated client that asks for it gets
  // it, and the peer becomes a fresh guest. The holder of `nick` when that
  // is so, else null.
  client* weak_holder(const std::string& nick, const client* asking) const;
  // Renames `weak` to a fresh guest and tells it why. `release_in_cluster`:
  // false when a client of this node takes its claim over at once.
  void lose_nick(client& weak, bool release_in_cluster);
  // `c` was renamed from `old`: everyone who shares a room hears it once
  // (unvalidated UDP peers only their own); `c` gets the ref.
  void tell_renamed(client& c, const std::string& old, const protocol::ref_value& ref);
  void send_topic(client& c, room& r, const protocol::ref_value& join_ref = nullptr);
  void on_topic_stored(std::error_code ec, client_id from, const std::string& name,
                       const topic_state& next, std::int64_t ts, const protocol::ref_value& ref);
  void on_published(std::error_code ec, protocol::message_ptr sealed, client_id from,
                    const protocol::ref_value& ref);
  void send_history(client& c, room& r, std::uint64_t after, const protocol::ref_value& ref);
  void send_welcome(client& c);
  // After a join to a room above --presence-limit: its size, in place of
  // the joins and leaves nobody will announce.
  void send_presence(client& c, room& r);
  // A join or leave, announced or counted (presence.hpp); `members` counts
  // the room with `c` in it.
  void tell_joined(room& r, client& c, std::size_t members);
  void tell_left(room& r, client& c, std::size_t members);

  // Cluster mode (hub_cluster.cpp).
  std::string new_guest();  // claimed here, and cluster-wide in a cluster
  void cluster_rename(client& c, const std::string& nick, const protocol::ref_value& ref);
  void cluster_renamed(client& c, const std::string& old_nick);
  void cluster_who(client& c, const std::string& room_name, const protocol::ref_value& ref);
  void cluster_rooms(client& c, const protocol::ref_value& ref);
  void cluster_direct(client& sender, protocol::chat_message msg, const protocol::ref_value& ref);

  const config& cfg_;
  metrics& metrics_;
  std::unique_ptr<message_store> store_;
  nick_registry nicks_;
  std::unordered_map<client_id, client> clients_;  // nodes: a client never moves
  std::map<std::string, room> rooms_;
  std::list<room*> idle_rooms_;  // empty rooms kept for their history, oldest first
  client_id next_id_ = 1;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::uint32_t next_mark_ = 1;
  std::size_t counted_ = 0;  // clients that count toward --max-clients
  bool overloaded_ = false;
  bool store_failing_ = false;  // log a failing store once per burst
  cluster* cluster_ = nullptr;  // --redis only
  std::string cluster_granted_;  // the folded nick the cluster just granted, being applied
};

}  // namespace chatgate
