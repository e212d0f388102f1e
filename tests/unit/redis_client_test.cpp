#include "gateway/redis/redis_client.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/socket.h>

#include <functional>
#include <optional>

#include "tests/unit/support/redis_links.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace chatgate::redis {
namespace {

using namespace std::chrono_literals;
using namespace test;  // redis_server, run_until, settle; redis_links.hpp's helpers

std::size_t open_fds() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory stream itself
}

// ------------------------------------------------------------------ URLs

TEST(RedisUrl, ParsesHostPortPasswordAndDb) {
  std::string error;
  auto u = parse_url("redis://:s3cret@10.0.0.5:6380/2", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(u->redacted(), "redis://10.0.0.5:6380/2");  // no password in logs
}

TEST(RedisUrl, DefaultsUserIpv6AndPercentEncoding) {
  std::string error;
  auto u = parse_url("redis://redis", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "redis");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_TRUE(u->password.empty());

  u = parse_url("redis://app:p%40ss%3Aw@[::1]:7000/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 7000);
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->password, "p@ss:w");
  EXPECT_EQ(u->redacted(), "redis://[::1]:7000/0");
}

TEST(RedisUrl, RejectsWhatIsNotAUrl) {
  std::string error;
  for (const char* bad : {"http://h:1", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h:", "redis://h:1/x", "redis://h:1/-1", "redis://pw@h:1",
                          "redis://:@h:1", "redis://[::1", "redis://:%zz@h", "h:6379"}) {
    error.clear();
    EXPECT_FALSE(parse_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

// ------------------------------------------------------------------ commands

TEST(RedisClient, CommandsAndReplyTypes) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client c(io, redis_options(server.url()));
  std::vector<bool> states;
  c.on_state([&](bool up) { states.push_back(up); });
  ASSERT_TRUE(start_until_up(io, c)) << c.last_error();
  EXPECT_EQ(states, std::vector<bool>{true});

  auto r = sync(io, c, {"SET", "k", std::string("a\0b\r\n", 5)});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply::type::status);
  EXPECT_EQ(r->str, "OK");
  r = sync(io, c, {"GET", "k"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply::type::string);
  EXPECT_EQ(r->str, std::string("a\0b\r\n", 5));  // binary-safe both ways
  r = sync(io, c, {"GET", "missing"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_nil());
  r = sync(io, c, {"INCRBY", "n", "41"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply::type::integer);
  EXPECT_EQ(r->integer, 41);
  r = sync(io, c, {"RPUSH", "l", "x", "y"});
  r = sync(io, c, {"LRANGE", "l", "0", "-1"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kind, reply::type::array);
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[1].str, "y");
  r = sync(io, c, {"INCR", "k"});  // a Redis error is a reply, not a failure
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_error());
  EXPECT_NE(r->str.find("not an integer"), std::string::npos);
  EXPECT_TRUE(c.up());
}

// A command built as RESP goes out as is; an incomplete one is refused.
TEST(RedisClient, RespCommandsAreRespAndIncompleteOnesAreRefused) {
  resp_command set(3);
  set.arg("SET").arg("k").arg(std::string_view("a\0b\r\n", 5));
  EXPECT_EQ(set.text(), std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n", 31));
  EXPECT_EQ(set.missing(), 0u);
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client c(io, redis_options(server.url()));
  ASSERT_TRUE(start_until_up(io, c)) << c.last_error();
  std::optional<command_outcome> got;
  c.command(set, [&](std::error_code ec, reply r) { got = command_outcome{ec, std::move(r)}; });
  ASSERT_TRUE(run_until(io, [&] { return got.has_value(); }));
  EXPECT_FALSE(got->ec);
  EXPECT_EQ(got->r.str, "OK");
  EXPECT_EQ(sync(io, c, {"GET", "k"})->str, std::string("a\0b\r\n", 5));
  resp_command half(2);
  half.arg("GET");
  got.reset();
  c.command(half, [&](std::error_code ec, reply r) { got = command_outcome{ec, std::move(r)}; });
  ASSERT_TRUE(run_until(io, [&] { return got.has_value(); }));
  EXPECT_TRUE(got->ec);    // never sent: Redis would wait for the missing argument
  EXPECT_TRUE(c.up());     // and the connection is fine
  EXPECT_EQ(sync(io, c, {"GET", "k"})->str, std::string("a\0b\r\n", 5));
}

TEST(RedisClient, CallbackNeverRunsBeforeCommandReturns) {
  asio::io_context io;
  client c(io, redis_options("redis://127.0.0.1:1"));
  bool returned = false, called_early = false;
  std::error_code got;
  c.command({"PING"}, [&](std::error_code ec, reply) {
    called_early = !returned;
    got = ec;
  });
  returned = true;
  settle(io, 20ms);
  EXPECT_FALSE(called_early);
  EXPECT_EQ(got, errc::not_connected);
}

TEST(RedisClient, PipelinesTenThousandCommandsInOrder) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client c(io, redis_options(server.url()));
  ASSERT_TRUE(start_until_up(io, c)) << c.last_error();
  constexpr int n = 10000;
  std::vector<long long> got;
  got.reserve(n);
  int errors = 0;
  for (int i = 0; i < n; ++i)
    c.command({"INCR", "counter"}, [&](std::error_code ec, reply r) {
      if (ec) ++errors;
      got.push_back(r.integer);
    });
  EXPECT_EQ(c.pending(), static_cast<std::size_t>(n));  // all in flight at once
  ASSERT_TRUE(run_until(io, [&] { return got.size() == n; }, 30s));
  EXPECT_EQ(errors, 0);
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], i + 1);
  EXPECT_EQ(c.pending(), 0u);
}

TEST(RedisClient, PendingCommandsAreCapped) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  auto o = redis_options(server.url());
  o.max_pending = 10;
  client c(io, o);
  ASSERT_TRUE(start_until_up(io, c));
  int ok = 0, refused = 0;
  for (int i = 0; i < 15; ++i)
    c.command({"PING"}, [&](std::error_code ec, reply) {
      if (!ec) ++ok;
      else if (ec == errc::too_many_pending) ++refused;
    });
  ASSERT_TRUE(run_until(io, [&] { return ok + refused == 15; }));
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(refused, 5);
  EXPECT_TRUE(c.up());
}

// ------------------------------------------------------------------ AUTH, SELECT

TEST(RedisClient, AuthAndSelectOnConnect) {
  redis_server server({"--requirepass", "pa ss"});
  REQUIRE_REDIS(server);
  asio::io_context io;
  const std::string base = "redis://:pa%20ss@127.0.0.1:" + std::to_string(server.port());
  client db3(io, redis_options(base + "/3"));
  client db0(io, redis_options(base));
  ASSERT_TRUE(start_until_up(io, db3, db0)) << db3.last_error();
  ASSERT_TRUE(sync(io, db3, {"SET", "where", "three"}));
  auto r = sync(io, db0, {"GET", "where"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_nil());  // db 3 is not db 0
  r = sync(io, db0, {"SELECT", "3"});
  r = sync(io, db0, {"GET", "where"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "three");
}

TEST(RedisClient, WrongPasswordNeverComesUpAndSaysWhy) {
  redis_server server({"--requirepass", "right"});
  REQUIRE_REDIS(server);
  asio::io_context io;
  client c(io, redis_options("redis://:wrong@127.0.0.1:" + std::to_string(server.port())));
  c.start();
  EXPECT_FALSE(run_until(io, [&] { return c.up(); }, 500ms));
  EXPECT_NE(c.last_error().find("AUTH"), std::string::npos) << c.last_error();
  EXPECT_EQ(c.last_error().find("wrong"), std::string::npos) << "password in a log line";
}

TEST(RedisClient, RefusedConnectionRetriesAndFailsCommandsAtOnce) {
  asio::io_context io;
  client c(io, redis_options("redis://127.0.0.1:" + std::to_string(test::free_port())));
  c.start();
  EXPECT_FALSE(run_until(io, [&] { return c.up(); }, 300ms));
  EXPECT_NE(c.last_error().find("refused"), std::string::npos) << c.last_error();
  const auto t0 = std::chrono::steady_clock::now();
  auto got = run_command(io, c, {"PING"});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ec, errc::not_connected);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
}

TEST(RedisClient, ConnectDeadlineWhenNobodyAnswers) {
  // A listener that never reads: TCP connects, AUTH is never answered.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::listen(fd, 16);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  asio::io_context io;
  auto o = redis_options("redis://:pw@127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  o.connect_timeout = 300ms;
  client c(io, o);
  c.start();
  EXPECT_TRUE(run_until(io, [&] { return c.last_error().find("no answer") != std::string::npos; },
                        3s))
      << c.last_error();
  EXPECT_FALSE(c.up());
  c.stop();
  settle(io);
  ::close(fd);
}

// ------------------------------------------------------------------ failures

TEST(RedisClient, ConnectionKilledWithACommandPending) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client c(io, redis_options(server.url()));
  client admin(io, redis_options(server.url()));
  ASSERT_TRUE(start_until_up(io, c, admin));
  std::vector<bool> states;
  c.on_state([&](bool up) { states.push_back(up); });
  std::error_code got;
  bool done = false;
  c.command({"BLPOP", "nothing", "0"}, [&](std::error_code ec, reply) { got = ec, done = true; });
  settle(io, 50ms);
  ASSERT_TRUE(sync(io, admin, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_EQ(got, errc::connection_lost);
  // Reconnects by itself and works again.
  ASSERT_TRUE(run_until(io, [&] { return c.up(); })) << c.last_error();
  EXPECT_EQ(states, (std::vector<bool>{false, true}));
  EXPECT_EQ(c.connects(), 2u);
  auto r = sync(io, c, {"PING"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "PONG");
}

TEST(RedisClient, StopAndDestructionFailPendingCommands) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  std::error_code first, second;
  int calls = 0;
  {
    client c(io, redis_options(server.url()));
    ASSERT_TRUE(start_until_up(io, c));
    c.command({"BLPOP", "nothing", "0"}, [&](std::error_code ec, reply) { first = ec, ++calls; });
    settle(io, 20ms);
    c.stop();
    c.stop();  // safe twice
    ASSERT_TRUE(run_until(io, [&] { return calls == 1; }));
    EXPECT_EQ(first, errc::stopped);
    ASSERT_TRUE(start_until_up(io, c));
    c.command({"BLPOP", "nothing", "0"}, [&](std::error_code ec, reply) { second = ec, ++calls; });
    settle(io, 20ms);
  }  // destroyed with a command pending: its callback still runs, once
  settle(io);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(second, errc::stopped);
}

TEST(RedisClient, StoppedRedisTripsTheCommandDeadline) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  const auto o = redis_options(server.url(), 500ms);
  client c(io, o);
  std::vector<bool> states;
  c.on_state([&](bool up) { states.push_back(up); });
  ASSERT_TRUE(start_until_up(io, c));
  server.pause();
  const auto t0 = std::chrono::steady_clock::now();
  auto got = run_command(io, c, {"SET", "late", "1"});
  ASSERT_TRUE(got);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(got->ec, errc::timeout);
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
  EXPECT_FALSE(c.up());
  EXPECT_EQ(states, (std::vector<bool>{true, false}));
  // While Redis sleeps, commands fail at once rather than waiting.
  got = run_command(io, c, {"PING"});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ec, errc::not_connected);
  server.resume();
  ASSERT_TRUE(run_until(io, [&] { return c.up(); })) << c.last_error();
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
}

TEST(RedisClient, ThousandConnectCyclesLeakNoDescriptors) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client admin(io, redis_options(server.url()));
  ASSERT_TRUE(start_until_up(io, admin));
  settle(io, 20ms);
  const std::size_t fds_before = open_fds();
  int pongs = 0;
  for (int i = 0; i < 1000; ++i) {
    auto c = std::make_unique<client>(io, redis_options(server.url()));
    ASSERT_TRUE(start_until_up(io, *c)) << "cycle " << i << ": " << c->last_error();
    c->command({"PING"}, [&](std::error_code ec, reply) { pongs += !ec; });
    if (i % 2) c->stop();  // half stopped first, half just destroyed
    c.reset();
  }
  settle(io, 100ms);
  EXPECT_EQ(open_fds(), fds_before);
  // Redis agrees: only the admin connection is left.
  auto r = sync(io, admin, {"CLIENT", "LIST"});
  ASSERT_TRUE(r);
  EXPECT_EQ(std::count(r->str.begin(), r->str.end(), '\n'), 1) << r->str;
  EXPECT_LE(pongs, 1000);

  // The same with one client resetting its own connection.
  client c(io, redis_options(server.url()));
  c.start();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(run_until(io, [&] { return c.up(); })) << c.last_error();
    c.reset();
  }
  ASSERT_TRUE(run_until(io, [&] { return c.up(); }));
  c.stop();
  settle(io, 100ms);
  EXPECT_EQ(open_fds(), fds_before);
}

// The server drops the connection while a blocking command (and so the
// adapter's read wait) is pending, a thousand times over: every pending
// callback fails once with connection_lost, the client reconnects by itself
// each time, and no descriptor or Redis connection is left behind.
TEST(RedisClient, ThousandServerSideDisconnectsWithAWaitPendingLeakNothing) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client admin(io, redis_options(server.url()));
  admin.start();
  ASSERT_TRUE(run_until(io, [&] { return admin.up(); }));
  settle(io, 20ms);
  const std::size_t fds_before = open_fds();
  auto o = redis_options(server.url());
  o.backoff_min = 1ms;  // reconnect at once: the test is the thousand cycles
  o.backoff_max = 2ms;
  constexpr int cycles = 1000;
  {
    client c(io, o);
    c.start();
    int lost = 0, other = 0;
    for (int i = 0; i < cycles; ++i) {
      ASSERT_TRUE(run_until(io, [&] { return c.up(); })) << "cycle " << i << ": " << c.last_error();
      bool done = false, killed = false;
      c.command({"BLPOP", "nothing", "0"}, [&](std::error_code ec, reply) {
        ++(ec == errc::connection_lost ? lost : other);
        done = true;
      });
      admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"},
                    [&](std::error_code, reply) { killed = true; });
      ASSERT_TRUE(run_until(io, [&] { return done && killed; })) << "cycle " << i;
    }
    EXPECT_EQ(lost, cycles);
    EXPECT_EQ(other, 0);
    ASSERT_TRUE(run_until(io, [&] { return c.up(); }));
    EXPECT_EQ(c.connects(), static_cast<std::uint64_t>(cycles + 1));
    auto r = sync(io, c, {"PING"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->str, "PONG");

    // A subscriber always has a read wait pending: the same for it.
    subscriber sub(io, o);
    sub.subscribe("room:k");
    sub.start();
    ASSERT_TRUE(run_until(io, [&] { return sub.up(); })) << sub.last_error();
    for (int i = 0; i < cycles; ++i) {
      bool killed = false;
      admin.command({"CLIENT", "KILL", "TYPE", "pubsub"}, [&](std::error_code, reply) { killed = true; });
      // Down, then up again on a new connection, resubscribed.
      ASSERT_TRUE(run_until(io, [&] { return killed && sub.up() && sub.connects() == static_cast<std::uint64_t>(i + 2); }))
          << "cycle " << i << ": " << sub.last_error();
    }
    ASSERT_TRUE(run_until(io, [&] { return sub.up(); }));
    EXPECT_EQ(sub.connects(), static_cast<std::uint64_t>(cycles + 1));
    std::vector<std::string> got;
    sub.on_message([&](const std::string&, const std::string& p, const std::string&) { got.push_back(p); });
    sync(io, c, {"PUBLISH", "room:k", "still subscribed"});
    ASSERT_TRUE(run_until(io, [&] { return got.size() == 1; }));
  }
  settle(io, 100ms);
  EXPECT_EQ(open_fds(), fds_before);
  auto r = sync(io, admin, {"CLIENT", "LIST"});
  ASSERT_TRUE(r);
  EXPECT_EQ(std::count(r->str.begin(), r->str.end(), '\n'), 1) << r->str;
}

// ------------------------------------------------------------------ pub/sub

struct received {
  std::string channel, payload, pattern;
};

TEST(RedisSubscriber, SubscribePatternAndUnsubscribe) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client pub(io, redis_options(server.url()));
  subscriber sub(io, redis_options(server.url()));
  std::vector<received> got;
  sub.on_message([&](const std::string& ch, const std::string& p, const std::string& pat) {
    got.push_back({ch, p, pat});
  });
  sub.subscribe("room:a");
  sub.psubscribe("node:*");
  ASSERT_TRUE(start_until_up(io, pub, sub)) << sub.last_error();

  auto r = sync(io, pub, {"PUBLISH", "room:a", "hello"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->integer, 1);  // one subscriber heard it
  sync(io, pub, {"PUBLISH", "node:7", "dm"});
  sync(io, pub, {"PUBLISH", "room:b", "not for us"});
  ASSERT_TRUE(run_until(io, [&] { return got.size() >= 2; }));
  settle(io, 50ms);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, "room:a");
  EXPECT_EQ(got[0].payload, "hello");
  EXPECT_EQ(got[0].pattern, "");
  EXPECT_EQ(got[1].channel, "node:7");
  EXPECT_EQ(got[1].pattern, "node:*");

  // Subscribing while up takes effect: PUBLISH counts the subscriber.
  sub.subscribe("room:b");
  ASSERT_TRUE(run_until(io, [&] {
    auto n = sync(io, pub, {"PUBSUB", "NUMSUB", "room:b"});
    return n && n->elements.size() == 2 && n->elements[1].integer == 1;
  }));
  sub.unsubscribe("room:a");
  ASSERT_TRUE(run_until(io, [&] {
    auto n = sync(io, pub, {"PUBSUB", "NUMSUB", "room:a"});
    return n && n->elements.size() == 2 && n->elements[1].integer == 0;
  }));
  got.clear();
  sync(io, pub, {"PUBLISH", "room:a", "gone"});
  sync(io, pub, {"PUBLISH", "room:b", "now"});
  ASSERT_TRUE(run_until(io, [&] { return !got.empty(); }));
  settle(io, 50ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "now");
  EXPECT_EQ(sub.pending(), 0u);  // every confirmation arrived
  EXPECT_TRUE(sub.up());
}

TEST(RedisSubscriber, RedisKilledAndRestartedReconnectsAndResubscribes) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  auto o = redis_options(server.url());
  o.backoff_max = 100ms;
  client pub(io, o);
  subscriber sub(io, o);
  std::vector<std::string> got;
  std::vector<bool> sub_states, pub_states;
  sub.on_message([&](const std::string&, const std::string& p, const std::string&) { got.push_back(p); });
  sub.on_state([&](bool up) { sub_states.push_back(up); });
  pub.on_state([&](bool up) { pub_states.push_back(up); });
  sub.subscribe("room:a");
  sub.psubscribe("node:*");
  ASSERT_TRUE(start_until_up(io, pub, sub));

  server.kill();
  ASSERT_TRUE(run_until(io, [&] { return !pub.up() && !sub.up(); }));
  settle(io, 300ms);  // a few failed reconnects
  EXPECT_FALSE(sub.up());
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(run_until(io, [&] { return pub.up() && sub.up(); })) << sub.last_error();
  EXPECT_EQ(sub_states, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(pub_states, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(sub.connects(), 2u);

  sync(io, pub, {"PUBLISH", "room:a", "after restart"});
  sync(io, pub, {"PUBLISH", "node:1", "dm after restart"});
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 2; }));
  EXPECT_EQ(got[0], "after restart");
  EXPECT_EQ(got[1], "dm after restart");
}

TEST(RedisSubscriber, KilledPubsubConnectionResubscribes) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  client pub(io, redis_options(server.url()));
  subscriber sub(io, redis_options(server.url()));
  std::vector<std::string> got;
  sub.on_message([&](const std::string&, const std::string& p, const std::string&) { got.push_back(p); });
  sub.subscribe("room:a");
  ASSERT_TRUE(start_until_up(io, pub, sub));
  ASSERT_TRUE(sync(io, pub, {"CLIENT", "KILL", "TYPE", "pubsub"}));
  ASSERT_TRUE(run_until(io, [&] { return sub.connects() == 2 && sub.up(); })) << sub.last_error();
  sync(io, pub, {"PUBLISH", "room:a", "back"});
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 1; }));
  EXPECT_EQ(got[0], "back");
}

TEST(RedisSubscriber, StoppedRedisTripsTheSubscribeDeadline) {
  redis_server server;
  REQUIRE_REDIS(server);
  asio::io_context io;
  const auto o = redis_options(server.url(), 400ms);
  subscriber sub(io, o);
  ASSERT_TRUE(start_until_up(io, sub));
  server.pause();
  sub.subscribe("room:x");  // its confirmation never comes
  ASSERT_TRUE(run_until(io, [&] { return !sub.up(); }, 3s));
  server.resume();
  ASSERT_TRUE(run_until(io, [&] { return sub.up(); })) << sub.last_error();
  EXPECT_EQ(sub.channels().count("room:x"), 1u);
}

}  // namespace
}  // namespace chatgate::redis
