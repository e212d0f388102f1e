// What the hub asks of the other nodes of a cluster (SPEC 11): nicks unique
// across nodes, presence for `who` and `rooms`, room events and direct
// messages that reach every node. The hub has none without --redis; the
// Redis implementation is gateway/redis/redis_directory. Callbacks run on
// the loop, never before the call returns.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "gateway/store/message_store.hpp"
#include "protocol/event.hpp"

namespace chatgate {

struct cluster_member {
  std::string nick;
  protocol::via source;
};

struct cluster_room {
  std::string name;
  std::size_t members = 0;
  std::string topic;
};

class cluster {
 public:
  enum class outcome { ok, refused, unavailable };  // refused: nick taken, or no such nick

  struct events {
    std::function<void(const std::string& room, const std::string& nick, protocol::via)> joined, left;
    std::function<void(const std::vector<std::string>& rooms, const std::string& old_nick,
                       const std::string& nick)>
        renamed;
    std::function<void(const std::string& room, const topic_record&)> topic;
    std::function<void(protocol::chat_message)> direct;  // `to` names a local client
    // A weak claim of this node (an unvalidated UDP peer's, SPEC 9) was
    // taken over by a validated client of another node.
    std::function<void(const std::string& nick)> lost;
  };

  virtual ~cluster() = default;
  virtual void on_events(events e) = 0;

  // A guest nick no other node hands out, or "" when none is in stock.
  virtual std::string next_guest() = 0;
  // Claims a nick for this node, cluster-wide; a nick reserved by a token
  // (SPEC 13) only for its `owner`. A `weak` claim (an unvalidated UDP
  // peer's, SPEC 9) is refused any nick another node holds, and a strong
  // one takes another node's weak claim over (that node hears `lost`).
  virtual void claim(const std::string& nick, bool owner, bool weak, std::function<void(outcome)> then) = 0;
  // SPEC 13: a token proved this nick is someone's; kept in Redis for every node.
  virtual void reserve(const std::string& nick) = 0;
  // Claims a nick the hub already gave (a guest, an IRC registration)
  // without waiting; a conflict is logged. Also makes a weak claim strong
  // (its UDP peer validated).
  virtual void hold(const std::string& nick) = 0;
  virtual void release(const std::string& nick) = 0;

  // Presence, recorded for who/rooms and announced to the other nodes.
  virtual void joined(const std::string& room, const std::string& nick, protocol::via v) = 0;
  virtual void left(const std::string& room, const std::string& nick, protocol::via v) = 0;
  virtual void renamed(const std::vector<std::string>& rooms, const std::string& old_nick,
                       const std::string& nick, protocol::via v) = 0;
  virtual void topic_changed(const std::string& room, const topic_record& t) = 0;

  // Members of every node.
  virtual void who(const std::string& room,
                   std::function<void(outcome, std::vector<cluster_member>)> then) = 0;
  virtual void rooms(std::function<void(outcome, std::vector<cluster_room>)> then) = 0;
  // A direct message for a nick on another node; `then` gets the nick as
  // its owner spells it.
  virtual void direct(const protocol::chat_message& msg,
                      std::function<void(outcome, std::string to)> then) = 0;
};

}  // namespace chatgate
