// The message_store of a cluster node (SPEC 11, --redis): ids, history and
// topics live in Redis; every node, the sender's included, delivers only
// what comes back from its subscription, so all nodes show Redis's order.
// Design: docs/architecture.md, "Cluster".
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "gateway/store/message_store.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/redis/redis_schema.hpp"

namespace chatgate::redis {

struct store_options {
  url target;
  std::string node_id;
  std::size_t history = 100;  // stream MAXLEN ~ and what a join replays
  std::chrono::milliseconds command_timeout{3000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds heartbeat{4000};  // node key, clock, probe; claims live 3x this
  std::chrono::milliseconds room_ttl{std::chrono::hours(24 * 7)};
};

class redis_store final : public message_store {
 public:
  redis_store(asio::io_context& io, store_options opts);
  ~redis_store() override;

  // Connects both connections; they reconnect by themselves.
  void start();

  void publish(protocol::chat_message msg, published then) override;
  void history(const std::string& room, std::uint64_t after, std::size_t max_bytes,
               history_loaded then) override;
  void forget(const std::string& room) override;
  void set_topic(const std::string& room, topic_record topic, done then) override;
  void topic(const std::string& room, topic_loaded then) override;
  void on_remote(std::function<void(protocol::message_ptr)> sink) override { remote_ = std::move(sink); }
  std::size_t history_bytes() const override { return 0; }
  void close() override;
  // Closes, then destroys both connections and the timers: called while
  // the io_context still exists (the hub, which owns the store, outlives
  // the loop). Nothing may be called on the store afterwards.
  void shutdown();

  // Both connections ready (readiness, chatgate_redis_up).
  bool up() const { return parts_ && commands_.up() && subscription_.up(); }
  void on_state(std::function<void(bool up)> h) { on_state_ = std::move(h); }
  // What arrives on the node's own channel other than probes (DMs), and on
  // room channels without an id (presence and topic events): for the
  // cluster directory (gateway/redis/redis_directory).
  void on_node_message(std::function<void(const std::string& payload)> h) { node_sink_ = std::move(h); }
  void on_room_event(std::function<void(const std::string& room, const std::string& payload)> h) {
    event_sink_ = std::move(h);
  }
  client& commands() { return commands_; }
  subscriber& subscription() { return subscription_; }
  // Both connections are up again (or for the first time).
  void on_up(std::function<void()> h) { on_up_ = std::move(h); }
  const store_options& options() const { return opts_; }
  // Subscribes the room without a history read (a node that needs its
  // events, e.g. after a join whose history is read anyway).
  bool subscribed(const std::string& room) const { return rooms_.count(room) != 0; }
  const std::string& last_error() const;
  // The deadline a publish gets in Redis's clock: Redis refuses it after
  // this much, a second before the node gives up on the reply.
  std::chrono::milliseconds fence() const;

 private:
  struct pending_publish {
    protocol::chat_message msg;
    published then;
    bool accepted = false;  // the script ran; the message comes back on the subscription
    std::string body;       // the script's body argument, kept for a resend
    long long deadline = 0;  // in Redis's clock, the same for every send
    unsigned sends = 0;
  };
  struct read_request {
    std::uint64_t after;
    std::size_t max_bytes;
    history_loaded then;
  };
  struct room_state {
    bool confirmed = false;  // the subscription is active
    bool synced = false;     // `last` is known and everything up to it delivered
    bool reading = false;    // a sync read (baseline or backfill) is in flight
    bool based = false;      // `last` came from Redis (the room's count when first synced)
    std::uint64_t last = 0;  // the last id delivered
    std::size_t holds = 0;  // history reads in flight: live messages wait behind them
    std::uint64_t epoch = 0;  // subscriptions lost so far: a sync read of an older one is retried
    std::map<std::uint64_t, schema::entry> early;  // arrived ahead of `last` + 1
    std::deque<read_request> waiting;              // history asked before the subscription was active
  };

  void send_publish(std::uint64_t seq, bool full_script);
  void on_publish_reply(std::uint64_t seq, const std::string& room, std::error_code ec, const reply& r);
  void on_message(const std::string& channel, const std::string& payload);
  void on_subscribed(const std::string& channel);
  void on_connection_state();
  void sync_room(const std::string& room);
  void accept(const std::string& room, schema::entry e);
  void drain(const std::string& room);
  void deliver(schema::entry e);
  void read_history(const std::string& room, read_request req);
  void measure_clock();
  void do_heartbeat();
  void fail_waiting(room_state& r);
  void send_probe();

  // Everything bound to the io_context, in one block that shutdown() can
  // destroy before the loop goes; the references below name its parts.
  struct io_parts;

  asio::io_context& io_;
  store_options opts_;
  std::unique_ptr<io_parts> parts_;
  client& commands_;
  subscriber& subscription_;
  asio::steady_timer& heartbeat_timer_;
  asio::steady_timer& probe_timer_;
  std::uint64_t probe_seq_ = 0;     // the probe in flight; 0: none
  std::function<void(const std::string&)> node_sink_;
  std::function<void(const std::string&, const std::string&)> event_sink_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::unordered_map<std::string, room_state> rooms_;  // subscribed rooms
  std::map<std::uint64_t, pending_publish> pending_;   // by publish sequence number
  // Per room, this node's publishes whose reply has not come yet, in send
  // order: one sent behind another carries its result key as a guard, so it
  // never runs before it (a NOSCRIPT resend, SPEC 11's order).
  std::unordered_map<std::string, std::deque<std::uint64_t>> unreplied_;
  std::uint64_t seq_ = 0;
  long long clock_offset_ms_ = 0;  // Redis's clock minus ours
  bool was_up_ = false;
  std::function<void(protocol::message_ptr)> remote_;
  std::function<void(bool)> on_state_;
  std::function<void()> on_up_;
};

}  // namespace chatgate::redis

namespace chatgate {
struct config;
struct metrics;
namespace redis {
// The store of a cluster node from --redis and its companions; keeps
// chatgate_redis_up and the resync count in `m`. Not started.
std::unique_ptr<redis_store> make_cluster_store(asio::io_context& io, const config& cfg, metrics& m);
}  // namespace redis
}  // namespace chatgate
