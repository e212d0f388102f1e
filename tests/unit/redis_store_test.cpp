#include "gateway/redis/redis_store.hpp"

#include "gateway/redis/redis_directory.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "tests/unit/support/redis_links.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace chatgate::redis {
namespace {

using namespace std::chrono_literals;
using namespace test;  // redis_server, run_until, settle; redis_links.hpp's helpers

protocol::chat_message msg(const std::string& text, const std::string& room = "lobby") {
  protocol::chat_message m;
  m.room = room;
  m.from = "alice";
  m.source = protocol::via::ws;
  m.text = text;
  return m;
}

// One node: its store and every message its hub would fan out, in order.
struct node {
  std::unique_ptr<redis_store> store;
  std::vector<protocol::stored_ptr> seen;  // own (publish callback) and remote, as delivered
  int own = 0, remote = 0, refused = 0;

  node(asio::io_context& io, const std::string& url, const std::string& id, std::size_t history = 100) {
    std::string error;
    store_options o;
    o.target = *parse_url(url, error);
    o.node_id = id;
    o.history = history;
    o.command_timeout = 1500ms;
    o.connect_timeout = 1000ms;
    o.heartbeat = 500ms;
    store = std::make_unique<redis_store>(io, o);
    store->on_remote([this](protocol::message_ptr m) {
      seen.push_back(m->msg);
      ++remote;
    });
    store->start();
  }

  void publish(const std::string& text, const std::string& room = "lobby") {
    store->publish(msg(text, room), [this](std::error_code ec, protocol::message_ptr m) {
      if (ec) {
        ++refused;
        return;
      }
      seen.push_back(m->msg);
      ++own;
    });
  }

  // Joins (subscribes) like the hub does on a join: a history read.
  std::optional<std::vector<protocol::stored_ptr>> history(asio::io_context& io,
                                                           const std::string& room,
                                                           std::uint64_t after) {
    std::optional<std::vector<protocol::stored_ptr>> out;
    bool done = false;
    store->history(room, after, 1 << 20, [&](std::error_code ec, std::vector<protocol::stored_ptr> h) {
      if (!ec) out = std::move(h);
      done = true;
    });
    run_until(io, [&] { return done; });
    return out;
  }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& m : seen) out.push_back(std::to_string(m->id) + ":" + m->text);
    return out;
  }
};

struct cluster {
  redis_server server;
  asio::io_context io;
  std::unique_ptr<node> a, b;

  explicit cluster(std::size_t history = 100) {
    if (!server.available()) return;
    a = std::make_unique<node>(io, server.url(), "node-a", history);
    b = std::make_unique<node>(io, server.url(), "node-b", history);
    run_until(io, [&] { return a->store->up() && b->store->up(); });
  }

  // Both nodes join `room` (a history read each, as on a join): both subscribed.
  bool join_both(const std::string& room = "lobby") {
    return a->history(io, room, 0) && b->history(io, room, 0);
  }
};

TEST(RedisStore, BothNodesDeliverTheSameIdsInTheSameOrder) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.a->store->up() && c.b->store->up());
  ASSERT_TRUE(c.join_both());
  for (int i = 0; i < 50; ++i) {  // concurrent senders on both nodes
    c.a->publish("a" + std::to_string(i));
    c.b->publish("b" + std::to_string(i));
  }
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->seen.size() == 100 && c.b->seen.size() == 100; }))
      << c.a->seen.size() << " " << c.b->seen.size();
  settle(c.io, 100ms);
  EXPECT_EQ(c.a->texts(), c.b->texts());  // one order everywhere
  for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(c.a->seen[i]->id, i + 1);  // 1..100, no gaps
  EXPECT_EQ(c.a->own, 50);
  EXPECT_EQ(c.a->remote, 50);
  EXPECT_EQ(c.b->own, 50);
  // A node's own messages come back in the order it sent them.
  std::vector<std::string> mine;
  for (const auto& m : c.a->seen)
    if (m->text[0] == 'a') mine.push_back(m->text);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(mine[i], "a" + std::to_string(i));
}

TEST(RedisStore, HistoryAndSinceAreTheSameOnEveryNode) {
  cluster c(5);
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.a->history(c.io, "lobby", 0));
  for (int i = 1; i <= 8; ++i) c.a->publish("m" + std::to_string(i));
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own == 8; }));
  auto join = c.b->history(c.io, "lobby", 0);  // b joins later
  ASSERT_TRUE(join);
  ASSERT_EQ(join->size(), 5u);  // --history
  EXPECT_EQ(join->front()->id, 4u);
  EXPECT_EQ(join->back()->id, 8u);  // oldest first
  auto since = c.b->history(c.io, "lobby", 6);
  ASSERT_TRUE(since);
  ASSERT_EQ(since->size(), 2u);
  EXPECT_EQ((*since)[0]->text, "m7");
  EXPECT_EQ((*since)[1]->id, 8u);
  // b is subscribed now: a's next message reaches it with the next id.
  c.a->publish("m9");
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 1; }));
  EXPECT_EQ(c.b->seen.back()->id, 9u);
  EXPECT_EQ(c.b->seen.back()->text, "m9");
}

TEST(RedisStore, RedisStoppedMeansUnavailableAndTheMessageNeverSurfaces) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.join_both());
  c.a->publish("before");
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 1; }));
  c.server.pause();
  const auto t0 = std::chrono::steady_clock::now();
  c.a->publish("refused");
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->refused == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // within a few seconds
  ASSERT_TRUE(run_until(c.io, [&] { return !c.a->store->up(); }));
  c.a->publish("while down");  // refused at once
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->refused == 2; }, 1s));
  c.server.resume();
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->store->up() && c.b->store->up(); }))
      << c.a->store->last_error();
  c.a->publish("after");
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 2 && c.a->own == 2; }));
  settle(c.io, 300ms);
  EXPECT_EQ(c.b->texts(), (std::vector<std::string>{"1:before", "2:after"}));
  EXPECT_EQ(c.a->texts(), (std::vector<std::string>{"1:before", "2:after"}));
}

TEST(RedisStore, AKilledSubscriptionBackfillsInOrderOnce) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.join_both());
  c.a->publish("1");
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 1; }));

  // Kill every subscriber connection; publish while they reconnect.
  client admin(c.io, redis_options(c.server.url()));
  ASSERT_TRUE(start_until_up(c.io, admin));
  ASSERT_TRUE(run_command(c.io, admin, {"CLIENT", "KILL", "TYPE", "pubsub"}));
  for (int i = 2; i <= 6; ++i) c.a->publish(std::to_string(i));
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 6 && c.a->own == 6; }))
      << c.b->remote << " " << c.a->own;
  settle(c.io, 300ms);
  const std::vector<std::string> want{"1:1", "2:2", "3:3", "4:4", "5:5", "6:6"};
  EXPECT_EQ(c.b->texts(), want);
  EXPECT_EQ(c.a->texts(), want);
}

// Publishes go out as EVALSHA; a NOSCRIPT (Redis restarted or flushed its
// scripts) sends the script again with EVAL. Several publishes are in flight
// on the one pipelined connection when the scripts go: each is published
// once, with the next id, in the order it was sent, on both nodes, even
// when another connection loads the script again between the stopped ones
// and those behind them (which would otherwise run first).
TEST(RedisStore, AFlushedScriptIsSentAgainWithTheSameIdsAndOrder) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.join_both());
  c.a->publish("0");
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own == 1 && c.b->remote == 1; }));
  // All pipelined, in this order, before any reply: on the node's own
  // connection, so Redis runs them in exactly this order.
  auto& wire = c.a->store->commands();
  int admin_done = 0;
  auto admin = [&](std::vector<std::string> args) {
    wire.command(std::move(args), [&](std::error_code ec, reply r) { admin_done += !ec && !r.is_error(); });
  };
  c.a->publish("1");
  c.a->publish("2");
  admin({"SCRIPT", "FLUSH"});
  c.a->publish("3");  // NOSCRIPT
  c.a->publish("4");  // NOSCRIPT
  admin({"SCRIPT", "LOAD", schema::publish_script});  // as another node's EVAL would
  c.a->publish("5");  // the script is there, but 4 has not run: "behind"
  c.b->publish("b");  // another node's publish runs at once
  c.a->publish("6");
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own + c.a->refused == 7 && c.b->own == 1 && c.a->remote == 1; }))
      << c.a->own << " " << c.a->refused;
  ASSERT_TRUE(run_until(c.io, [&] { return c.b->remote == 7; })) << c.b->remote;
  settle(c.io, 200ms);
  EXPECT_EQ(admin_done, 2);
  EXPECT_EQ(c.a->refused, 0);
  EXPECT_EQ(c.a->texts(), c.b->texts());  // one order everywhere
  ASSERT_EQ(c.a->seen.size(), 8u);
  std::vector<std::string> mine;
  for (std::size_t i = 0; i < c.a->seen.size(); ++i) {
    EXPECT_EQ(c.a->seen[i]->id, i + 1);  // no gaps, no duplicates
    if (c.a->seen[i]->text != "b") mine.push_back(c.a->seen[i]->text);
  }
  EXPECT_EQ(mine, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  // Published once each: the stream holds 8 entries.
  auto len = sync(c.io, wire, {"XLEN", schema::room_log_key("lobby")});
  ASSERT_TRUE(len);
  EXPECT_EQ(len->integer, 8);
}

// The same under a storm: SCRIPT FLUSH from another connection at random
// moments while both nodes publish pipelined bursts.
TEST(RedisStore, PublishesSurviveRepeatedScriptFlushesInOrder) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.join_both());
  client admin(c.io, redis_options(c.server.url()));
  ASSERT_TRUE(start_until_up(c.io, admin));
  constexpr int bursts = 10, per_burst = 20;
  for (int k = 0; k < bursts; ++k) {
    for (int i = 0; i < per_burst; ++i) {
      c.a->publish("a" + std::to_string(k * per_burst + i));
      c.b->publish("b" + std::to_string(k * per_burst + i));
      if (i == per_burst / 2) admin.command({"SCRIPT", "FLUSH"}, [](std::error_code, reply) {});
    }
    settle(c.io, std::chrono::milliseconds(2 * k));
  }
  const std::size_t total = 2 * bursts * per_burst;
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->seen.size() == total && c.b->seen.size() == total; }))
      << c.a->seen.size() << " " << c.b->seen.size() << " refused " << c.a->refused << " " << c.b->refused;
  settle(c.io, 200ms);
  EXPECT_EQ(c.a->refused + c.b->refused, 0);
  EXPECT_EQ(c.a->texts(), c.b->texts());
  for (std::size_t i = 0; i < total; ++i) EXPECT_EQ(c.a->seen[i]->id, i + 1);
  for (const char* who : {"a", "b"}) {  // each node's messages in the order it sent them
    int next = 0;
    for (const auto& m : c.a->seen) {
      if (m->text[0] != who[0]) continue;
      EXPECT_EQ(m->text, who + std::to_string(next++));
    }
    EXPECT_EQ(next, bursts * per_burst);
  }
}

// A room whose messages are sparse keeps its keys while it has members: the
// presence refresh (on join and every heartbeat) renews their TTL.
TEST(RedisDirectory, PresenceKeepsTheRoomsKeysAlive) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.join_both());
  c.a->publish("1");
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own == 1; }));
  auto& wire = c.a->store->commands();
  for (const auto& key : {schema::room_id_key("lobby"), schema::room_log_key("lobby")})
    ASSERT_TRUE(sync(c.io, wire, {"PEXPIRE", key, "100000"}));
  redis_directory dir(c.io, *c.a->store);
  dir.joined("lobby", "alice", protocol::via::ws);
  auto pttl = [&](const std::string& key) {
    auto r = sync(c.io, wire, {"PTTL", key});
    return r ? r->integer : -3;
  };
  EXPECT_TRUE(run_until(c.io, [&] {
    return pttl(schema::room_id_key("lobby")) > 600000000 && pttl(schema::room_log_key("lobby")) > 600000000;
  }));
  // A room that never had a message gets no keys from it.
  dir.joined("empty", "alice", protocol::via::ws);
  settle(c.io, 200ms);
  EXPECT_EQ(sync(c.io, wire, {"EXISTS", schema::room_id_key("empty"), schema::room_log_key("empty")})->integer, 0);
}

TEST(RedisStore, TopicsAreShared) {
  cluster c;
  REQUIRE_REDIS(c.server);
  bool set = false;
  c.a->store->set_topic("lobby", {"welcome all", "alice", 1234}, [&](std::error_code ec) {
    EXPECT_FALSE(ec);
    set = true;
  });
  ASSERT_TRUE(run_until(c.io, [&] { return set; }));
  std::optional<topic_record> got;
  bool done = false;
  c.b->store->topic("lobby", [&](std::error_code ec, std::optional<topic_record> t) {
    EXPECT_FALSE(ec);
    got = t;
    done = true;
  });
  ASSERT_TRUE(run_until(c.io, [&] { return done; }));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text, "welcome all");
  EXPECT_EQ(got->by, "alice");
  EXPECT_EQ(got->ts, 1234);
  done = false;
  c.b->store->topic("elsewhere", [&](std::error_code ec, std::optional<topic_record> t) {
    EXPECT_FALSE(ec);
    EXPECT_FALSE(t);
    done = true;
  });
  ASSERT_TRUE(run_until(c.io, [&] { return done; }));
}

TEST(RedisStore, ForgottenRoomsAreUnsubscribedButPublishesStillComplete) {
  cluster c;
  REQUIRE_REDIS(c.server);
  ASSERT_TRUE(c.b->history(c.io, "quiet", 0));
  c.a->publish("x", "quiet");  // a has no member there: completes from the reply
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own == 1 && c.b->remote == 1; }));
  EXPECT_EQ(c.a->seen.back()->id, 1u);
  c.b->store->forget("quiet");
  c.a->publish("y", "quiet");
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->own == 2; }));
  settle(c.io, 200ms);
  EXPECT_EQ(c.b->remote, 1);  // b no longer listens
  EXPECT_EQ(c.a->seen.back()->id, 2u);
}

TEST(RedisStore, DownMeansUnavailableAndStateIsReported) {
  cluster c;
  REQUIRE_REDIS(c.server);
  std::vector<bool> states;
  c.a->store->on_state([&](bool up) { states.push_back(up); });
  c.server.kill();
  ASSERT_TRUE(run_until(c.io, [&] { return !c.a->store->up(); }));
  EXPECT_FALSE(c.a->history(c.io, "lobby", 0));  // unavailable
  ASSERT_TRUE(c.server.start());
  ASSERT_TRUE(run_until(c.io, [&] { return c.a->store->up(); }));
  EXPECT_EQ(states, (std::vector<bool>{false, true}));
  EXPECT_TRUE(c.a->history(c.io, "lobby", 0));
}

}  // namespace
}  // namespace chatgate::redis
