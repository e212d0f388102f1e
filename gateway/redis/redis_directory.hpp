// The cluster seen from one node (SPEC 11), in Redis: nick claims and
// presence as keys refreshed by a heartbeat (a node killed with -9 stops
// refreshing and its entries expire), room events on the room channels,
// nick changes on one cluster-wide channel, and direct messages on the
// recipient node's own channel. It shares the store's two connections.
// Keys and scripts: docs/architecture.md, "Cluster".
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include <asio/steady_timer.hpp>

#include "gateway/hub/cluster.hpp"
#include "gateway/redis/redis_store.hpp"

namespace chatgate::redis {

class redis_directory final : public cluster {
 public:
  redis_directory(asio::io_context& io, redis_store& store);
  ~redis_directory() override;

  void on_events(events e) override { events_ = std::move(e); }
  std::string next_guest() override;
  void claim(const std::string& nick, bool owner, bool weak, std::function<void(outcome)> then) override;
  void reserve(const std::string& nick) override;
  void hold(const std::string& nick) override;
  void release(const std::string& nick) override;
  void joined(const std::string& room, const std::string& nick, protocol::via v) override;
  void left(const std::string& room, const std::string& nick, protocol::via v) override;
  void renamed(const std::vector<std::string>& rooms, const std::string& old_nick, const std::string& nick,
               protocol::via v) override;
  void topic_changed(const std::string& room, const topic_record& t) override;
  void who(const std::string& room, std::function<void(outcome, std::vector<cluster_member>)> then) override;
  void rooms(std::function<void(outcome, std::vector<cluster_room>)> then) override;
  void direct(const protocol::chat_message& msg, std::function<void(outcome, std::string)> then) override;

 private:
  std::string member(const std::string& nick, protocol::via v) const;  // NICK\tVIA\tNODE
  std::string owner(const std::string& nick) const;                    // NODE\tNick
  std::string claim_value(const std::string& nick, bool weak) const;  // NODE\tNick, then \t* when weak
  // `written`: the claim now says what was asked (not a strong one kept).
  void send_claim(const std::string& nick, bool owner, bool weak, std::function<void(outcome, bool written)> then);
  void add_presence(const std::string& room, const std::vector<std::string>& members);
  void refill_guests();
  void refresh_claims();  // every claim of this node, in batches
  void heartbeat();
  void on_node_message(const std::string& payload);
  void on_room_event(const std::string& room, const std::string& payload);
  void publish_event(const std::string& channel, const std::string& payload);

  asio::io_context& io_;
  redis_store& store_;
  client& redis_;
  const std::string node_;
  asio::steady_timer timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  events events_;
  std::unordered_map<std::string, std::string> nicks_;  // folded -> as spelled, held by this node
  std::map<std::string, std::set<std::string>> presence_;  // room -> members here
  std::set<std::string> reserved_;  // folded nicks a token proved here (SPEC 13)
  std::set<std::string> weak_;  // folded nicks held weakly here (unvalidated UDP peers, SPEC 9)
  std::deque<std::uint64_t> guests_;  // guest numbers this node may hand out
  bool refilling_ = false;
};

}  // namespace chatgate::redis
