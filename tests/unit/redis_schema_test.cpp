#include "gateway/redis/redis_schema.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>

#include "gateway/redis/redis_client.hpp"
#include "tests/unit/support/redis_links.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace chatgate::redis {
namespace {

using namespace std::chrono_literals;
using namespace test;  // redis_server, run_until, settle; redis_links.hpp's helpers

protocol::chat_message msg(const std::string& room, const std::string& text, bool me = false) {
  protocol::chat_message m;
  m.room = room;
  m.from = "alice";
  m.source = protocol::via::tcp;
  m.text = text;
  m.me = me;
  return m;
}

// A test bench: one command connection, one subscriber on the room.
struct bench {
  redis_server server;
  asio::io_context io;
  std::unique_ptr<client> c;
  std::unique_ptr<subscriber> sub;
  std::vector<std::string> heard;

  explicit bench(const std::string& room = "lobby") {
    if (!server.available()) return;
    auto o = redis_options(server.url());
    o.backoff_max = 100ms;
    c = std::make_unique<client>(io, o);
    sub = std::make_unique<subscriber>(io, o);
    sub->on_message([this](const std::string&, const std::string& p, const std::string&) {
      heard.push_back(p);
    });
    sub->subscribe(schema::room_channel(room));
    start_until_up(io, *c, *sub);
  }

  std::optional<reply> sync(std::vector<std::string> args) { return test::sync(io, *c, std::move(args)); }

  long long redis_now_ms() {
    auto t = sync({"TIME"});
    return std::stoll(t->elements[0].str) * 1000 + std::stoll(t->elements[1].str) / 1000;
  }

  std::vector<std::string> publish_args(const protocol::chat_message& m, std::uint64_t seq,
                                        long long deadline, int maxlen = 100) {
    return {"EVAL",
            schema::publish_script,
            "3",
            schema::room_id_key(m.room),
            schema::room_log_key(m.room),
            schema::publish_result_key(m.room, "node-a", seq),
            std::to_string(deadline),
            std::to_string(maxlen),
            schema::room_channel(m.room),
            "10000",
            schema::encode_body(m, "node-a", seq),
            "604800000"};
  }

  std::optional<reply> publish(const protocol::chat_message& m, std::uint64_t seq,
                               int maxlen = 100) {
    return sync(publish_args(m, seq, redis_now_ms() + 2000, maxlen));
  }
};

TEST(RedisSchema, BodyRoundTripsThroughTheScriptsJson) {
  auto m = msg("lobby", "h\xC3\xA9llo \"quoted\" \\ \t", true);
  std::string body = schema::encode_body(m, "node-a", 42);
  ASSERT_EQ(body.front(), '{');
  // What the script stores: id and ts prepended.
  std::string stored = "{\"id\":7,\"ts\":1700000000123," + body.substr(1);
  auto e = schema::decode_entry(stored);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->msg.id, 7u);
  EXPECT_EQ(e->msg.ts, 1700000000123);
  EXPECT_EQ(e->msg.room, "lobby");
  EXPECT_EQ(e->msg.from, "alice");
  EXPECT_EQ(e->msg.source, protocol::via::tcp);
  EXPECT_EQ(e->msg.text, m.text);
  EXPECT_TRUE(e->msg.me);
  EXPECT_EQ(e->node, "node-a");
  EXPECT_EQ(e->seq, 42u);
  for (const char* bad : {"", "[]", "{}", "{\"id\":1}", "not json",
                          "{\"id\":1,\"ts\":2,\"room\":\"r\",\"from\":\"f\",\"via\":\"carrier pigeon\","
                          "\"text\":\"t\",\"n\":\"x\",\"s\":1}"})
    EXPECT_FALSE(schema::decode_entry(bad)) << bad;
}

// encode_body writes the body by hand (no JSON document): byte for byte
// what nlohmann wrote before, for any text, so nodes of either version read
// each other.
TEST(RedisSchema, TheBodyIsWhatNlohmannWouldWrite) {
  auto reference = [](const protocol::chat_message& m, const std::string& node, std::uint64_t seq) {
    nlohmann::json j = {{"room", m.room}, {"from", m.from}, {"via", protocol::to_string(m.source)},
                        {"text", m.text}, {"n", node},      {"s", seq}};
    if (m.me) j["me"] = true;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const std::vector<std::string> texts{
      "", "plain", "q\"uo\\te/", std::string("nul\0x", 5), "\x01\x1f\x7f\b\f\n\r\t",
      "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE2\x82\xAC",                      // 2, 4 and 3 bytes
      "bad \xFF", "cut \xC3", "surrogate \xED\xA0\x80", "overlong \xC0\xAF", "big \xF4\x90\x80\x80"};
  for (const auto& t : texts)
    for (bool me : {false, true}) {
      auto m = msg("lobby", t, me);
      EXPECT_EQ(schema::encode_body(m, "node-a", 18446744073709551615ull),
                reference(m, "node-a", 18446744073709551615ull))
          << t;
      m.room = t;  // every string field, the same way
      m.from = t;
      EXPECT_EQ(schema::encode_body(m, t, 1), reference(m, t, 1)) << t;
    }
}

// decode_entry reads the nodes' payloads with nlohmann's SAX parser, field
// by field: any JSON a document would read, read the same way.
TEST(RedisSchema, PayloadsAreReadLikeAnyJson) {
  const std::string tail = R"("room":"r","from":"f","via":"ws","n":"x","s":3})";
  auto e = schema::decode_entry(R"( { "id" : 1 , "ts":2, "text":"a\"b\\c\/d\n\u00e9\ud83d\ude00", )" + tail + " ");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->msg.text, "a\"b\\c/d\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(e->msg.id, 1u);
  EXPECT_EQ(e->msg.ts, 2);
  EXPECT_EQ(e->seq, 3u);
  EXPECT_EQ(e->msg.source, protocol::via::ws);
  EXPECT_FALSE(e->msg.me);
  // Unknown fields (a newer node's), whatever their value, are ignored;
  // the last of a repeated field counts.
  e = schema::decode_entry(R"({"id":1,"ts":2,"text":"t","x":{"y":[1,2.5,null]},"z":null,"me":false,"me":true,)" + tail);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->msg.me);
  EXPECT_EQ(e->msg.text, "t");
  e = schema::decode_entry(R"({"id":1,"ts":2,"text":"one","text":"two","w":"\u0041",)" + tail);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->msg.text, "two");
  for (const std::string& bad :
       {R"({"id":01,"ts":2,"text":"t",)" + tail, R"({"id":1.5,"ts":2,"text":"t",)" + tail,
        R"({"id":"1","ts":2,"text":"t",)" + tail, R"({"id":1,"ts":2,"text":7,)" + tail,
        "{\"id\":1,\"ts\":2,\"text\":\"raw\x01\",\"" + tail.substr(1),
        "{\"id\":1,\"ts\":2,\"text\":\"bad \xFF\"," + tail, R"({"id":1,"ts":2,"text":"t",)" + tail + "x",
        R"({"id":1,"ts":2,"text":"t" )" + tail, R"({"id":1,"ts":2,)" + tail, R"({"id":1,"ts":2,"text":"\x")" + tail})
    EXPECT_FALSE(schema::decode_entry(bad)) << bad;
}

TEST(RedisPublishScript, AssignsIdsStoresAndPublishesInOneStep) {
  bench b;
  REQUIRE_REDIS(b.server);
  ASSERT_TRUE(b.sub->up());
  for (int i = 1; i <= 5; ++i) {
    auto r = b.publish(msg("lobby", "m" + std::to_string(i)), i);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->kind, reply::type::array) << r->str;
    EXPECT_EQ(r->elements[0].integer, 1);
    EXPECT_EQ(r->elements[1].integer, i);  // 1, 2, 3, ... no gaps
  }
  ASSERT_TRUE(run_until(b.io, [&] { return b.heard.size() == 5; }));
  long long last_ts = 0;
  for (int i = 1; i <= 5; ++i) {
    auto e = schema::decode_entry(b.heard[i - 1]);
    ASSERT_TRUE(e) << b.heard[i - 1];
    EXPECT_EQ(e->msg.id, static_cast<std::uint64_t>(i));  // published in id order
    EXPECT_EQ(e->msg.text, "m" + std::to_string(i));
    EXPECT_EQ(e->seq, static_cast<std::uint64_t>(i));
    EXPECT_GE(e->msg.ts, last_ts);
    last_ts = e->msg.ts;
  }
  // The stream holds the same entries under "<id>-0": since = XRANGE (id.
  auto r = b.sync({"XRANGE", schema::room_log_key("lobby"), "(3-0", "+"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[0].elements[0].str, "4-0");
  EXPECT_EQ(r->elements[0].elements[1].elements[1].str, b.heard[3]);
  // Room keys expire when idle; result keys sooner.
  r = b.sync({"PTTL", schema::room_log_key("lobby")});
  EXPECT_GT(r->integer, 600000000);
  r = b.sync({"PTTL", schema::room_id_key("lobby")});
  EXPECT_GT(r->integer, 600000000);
  r = b.sync({"PTTL", schema::publish_result_key("lobby", "node-a", 1)});
  EXPECT_GT(r->integer, 0);
  EXPECT_LE(r->integer, 10000);
  // Another room counts on its own.
  r = b.publish(msg("other", "x"), 6);
  EXPECT_EQ(r->elements[1].integer, 1);
}

// The room's keys get their TTL with the first message and again with every
// 32nd (not with each: two commands of eight); the presence refresh keeps a
// slow room (RedisDirectory.PresenceKeepsTheRoomsKeysAlive).
TEST(RedisPublishScript, TheRoomTtlIsSetFirstThenEvery32ndMessage) {
  bench b;
  REQUIRE_REDIS(b.server);
  auto pttl = [&](const std::string& key) { return b.sync({"PTTL", key})->integer; };
  ASSERT_EQ(b.publish(msg("lobby", "m"), 1)->elements[1].integer, 1);
  EXPECT_GT(pttl(schema::room_id_key("lobby")), 600000000);
  EXPECT_GT(pttl(schema::room_log_key("lobby")), 600000000);
  for (const auto& key : {schema::room_id_key("lobby"), schema::room_log_key("lobby")})
    b.sync({"PEXPIRE", key, "100000"});
  for (int i = 2; i <= 32; ++i) b.publish(msg("lobby", "m"), i);
  EXPECT_LE(pttl(schema::room_id_key("lobby")), 100000);
  EXPECT_LE(pttl(schema::room_log_key("lobby")), 100000);
  ASSERT_EQ(b.publish(msg("lobby", "m"), 33)->elements[1].integer, 33);
  EXPECT_GT(pttl(schema::room_id_key("lobby")), 600000000);
  EXPECT_GT(pttl(schema::room_log_key("lobby")), 600000000);
  // A counter that went while the stream stayed comes back with a TTL.
  b.sync({"DEL", schema::room_id_key("lobby")});
  ASSERT_EQ(b.publish(msg("lobby", "m"), 34)->elements[1].integer, 34);
  EXPECT_GT(pttl(schema::room_id_key("lobby")), 600000000);
}

TEST(RedisPublishScript, HistoryIsTrimmedNearMaxlen) {
  bench b;
  REQUIRE_REDIS(b.server);
  const long long deadline = b.redis_now_ms() + 30000;
  int done = 0;
  for (int i = 1; i <= 1000; ++i)
    b.c->command(b.publish_args(msg("lobby", "m"), i, deadline, 100),
                 [&](std::error_code ec, reply r) { done += !ec && r.elements.size() == 3; });
  ASSERT_TRUE(run_until(b.io, [&] { return done == 1000; }, 30s));
  auto len = b.sync({"XLEN", schema::room_log_key("lobby")});
  EXPECT_GE(len->integer, 100);
  EXPECT_LT(len->integer, 300);  // "~": trimmed a node at a time, never unbounded
  auto last = b.sync({"XREVRANGE", schema::room_log_key("lobby"), "+", "-", "COUNT", "100"});
  ASSERT_EQ(last->elements.size(), 100u);
  EXPECT_EQ(last->elements.front().elements[0].str, "1000-0");
  EXPECT_EQ(last->elements.back().elements[0].str, "901-0");
}

TEST(RedisPublishScript, PastItsDeadlineItChangesNothing) {
  bench b;
  REQUIRE_REDIS(b.server);
  auto r = b.sync(b.publish_args(msg("lobby", "late"), 1, b.redis_now_ms() - 1));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[0].integer, 0);
  EXPECT_EQ(r->elements[1].str, "expired");
  EXPECT_EQ(b.sync({"EXISTS", schema::room_id_key("lobby"), schema::room_log_key("lobby"),
                    schema::publish_result_key("lobby", "node-a", 1)})
                ->integer,
            0);
  settle(b.io, 100ms);
  EXPECT_TRUE(b.heard.empty());
  // The next message still gets id 1: the refused one used no id.
  EXPECT_EQ(b.publish(msg("lobby", "next"), 2)->elements[1].integer, 1);
}

TEST(RedisPublishScript, ARepeatedPublishIsNotPublishedTwice) {
  bench b;
  REQUIRE_REDIS(b.server);
  b.publish(msg("lobby", "first"), 1);
  auto again = b.publish(msg("lobby", "first"), 1);  // same node and seq: a retry
  ASSERT_TRUE(again);
  EXPECT_EQ(again->elements[0].integer, 2);
  EXPECT_EQ(again->elements[1].integer, 1);  // the id it got the first time
  EXPECT_EQ(b.sync({"XLEN", schema::room_log_key("lobby")})->integer, 1);
  EXPECT_EQ(b.sync({"GET", schema::room_id_key("lobby")})->str, "1");
  ASSERT_TRUE(run_until(b.io, [&] { return b.heard.size() == 1; }));
  settle(b.io, 100ms);
  EXPECT_EQ(b.heard.size(), 1u);
}

TEST(RedisPublishScript, ItsShaIsTheOneRedisGivesAndEvalshaRunsIt) {
  bench b;
  REQUIRE_REDIS(b.server);
  EXPECT_EQ(schema::script_sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");  // FIPS 180 vector
  auto args = b.publish_args(msg("lobby", "by sha"), 1, b.redis_now_ms() + 2000);
  args[0] = "EVALSHA";
  args[1] = schema::publish_script_sha();
  auto r = b.sync(args);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_error());  // not loaded yet
  EXPECT_EQ(r->str.rfind("NOSCRIPT", 0), 0u) << r->str;
  auto loaded = b.sync({"SCRIPT", "LOAD", schema::publish_script});
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->str, schema::publish_script_sha());
  r = b.sync(args);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kind, reply::type::array) << r->str;
  EXPECT_EQ(r->elements[1].integer, 1);
}

// The guard (a fourth key: the result key of the node's previous publish to
// the room): absent, the script does nothing and says "behind".
TEST(RedisPublishScript, BehindAGuardThatDidNotRunItDoesNothing) {
  bench b;
  REQUIRE_REDIS(b.server);
  auto guarded = [&](std::uint64_t seq, std::uint64_t before) {
    auto args = b.publish_args(msg("lobby", "m" + std::to_string(seq)), seq, b.redis_now_ms() + 2000);
    args[2] = "4";
    args.insert(args.begin() + 6, schema::publish_result_key("lobby", "node-a", before));
    return b.sync(args);
  };
  auto r = guarded(2, 1);  // 1 never ran
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kind, reply::type::array) << r->str;
  EXPECT_EQ(r->elements[0].integer, 3);
  EXPECT_EQ(r->elements[1].str, "behind");
  EXPECT_EQ(b.sync({"EXISTS", schema::room_id_key("lobby"), schema::room_log_key("lobby"),
                    schema::publish_result_key("lobby", "node-a", 2)})
                ->integer,
            0);
  EXPECT_EQ(b.publish(msg("lobby", "m1"), 1)->elements[1].integer, 1);
  r = guarded(2, 1);  // 1 ran: 2 runs
  ASSERT_TRUE(r);
  EXPECT_EQ(r->elements[0].integer, 1);
  EXPECT_EQ(r->elements[1].integer, 2);
  ASSERT_TRUE(run_until(b.io, [&] { return b.heard.size() == 2; }));
  settle(b.io, 100ms);
  EXPECT_EQ(b.heard.size(), 2u);
}

TEST(RedisPublishScript, IdsGoOnWhenTheCounterIsLost) {
  bench b;
  REQUIRE_REDIS(b.server);
  for (int i = 1; i <= 3; ++i) b.publish(msg("lobby", "m"), i);
  b.sync({"DEL", schema::room_id_key("lobby")});
  auto r = b.publish(msg("lobby", "after"), 4);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kind, reply::type::array) << r->str;
  EXPECT_EQ(r->elements[1].integer, 4);  // never 1 again
  EXPECT_EQ(b.publish(msg("lobby", "next"), 5)->elements[1].integer, 5);
}

// The property SPEC 11 asks for: a publish the node gave up on while Redis
// was stopped (the sender was told `unavailable`) never surfaces when Redis
// wakes up and runs it.
TEST(RedisPublishScript, APublishThatTimedOutWhileRedisSleptNeverSurfaces) {
  bench b;
  REQUIRE_REDIS(b.server);
  ASSERT_EQ(b.publish(msg("lobby", "before"), 1)->elements[1].integer, 1);
  ASSERT_TRUE(run_until(b.io, [&] { return b.heard.size() == 1; }));

  // The node's budget: the script must run within 300 ms (Redis clock); the
  // node gives up after 800 ms.
  auto o = redis_options(b.server.url());
  o.command_timeout = 800ms;
  client node(b.io, o);
  ASSERT_TRUE(start_until_up(b.io, node));
  const long long deadline = b.redis_now_ms() + 300;
  b.server.pause();
  auto got = run_command(b.io, node, b.publish_args(msg("lobby", "refused"), 2, deadline));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ec, errc::timeout);  // the sender hears `unavailable`
  std::this_thread::sleep_for(200ms);
  b.server.resume();  // Redis reads the command still in its socket and runs it

  ASSERT_TRUE(run_until(b.io, [&] { return b.c->up() && b.sub->up(); })) << b.c->last_error();
  settle(b.io, 300ms);
  // Redis did run it (two EVALs so far, the first and the refused one) ...
  auto stats = b.sync({"INFO", "commandstats"});
  ASSERT_TRUE(stats);
  EXPECT_NE(stats->str.find("cmdstat_eval:calls=2,"), std::string::npos) << stats->str;
  // ... and it changed nothing.
  auto len = b.sync({"XLEN", schema::room_log_key("lobby")});
  ASSERT_TRUE(len);
  EXPECT_EQ(len->integer, 1);
  EXPECT_EQ(b.sync({"GET", schema::room_id_key("lobby")})->str, "1");
  EXPECT_EQ(b.heard.size(), 1u);  // nobody heard "refused"
  // And the next message is 2, not 3.
  EXPECT_EQ(b.publish(msg("lobby", "after"), 3)->elements[1].integer, 2);
}

}  // namespace
}  // namespace chatgate::redis
