#include "gateway/hub/hub.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "protocol/json_request.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

using json = nlohmann::json;

// A client as the hub sees it, recording what it is sent.
struct fake_client : participant {
  void deliver(const shared_bytes& bytes) override { received.push_back(*bytes); }
  void close() override { closed = true; }
  void use_json() override { json_mode = true; }
  std::size_t queued_bytes() const override { return 0; }
  void drop_slow() override { closed = true; }

  // Next JSON event, or a null json when nothing is left.
  json next() {
    if (received.empty()) return nullptr;
    json j = json::parse(received.front());
    received.pop_front();
    return j;
  }
  json next_of(const std::string& type) {
    for (json j = next(); !j.is_null(); j = next())
      if (j["type"] == type) return j;
    return nullptr;
  }
  std::string text() {
    std::string all;
    for (auto& r : received) all += r;
    received.clear();
    return all;
  }

  std::deque<std::string> received;
  bool closed = false;
  bool json_mode = false;
};

class HubTest : public ::testing::Test {
 protected:
  HubTest() { cfg.rate = 1e9, cfg.burst = 1e9; }

  hub& make() {
    h = std::make_unique<hub>(cfg, stats, make_memory_store(cfg.history));
    return *h;
  }
  client_id ws(fake_client& c) { return h->connect(c, protocol::via::ws, true); }
  client_id tcp(fake_client& c) { return h->connect(c, protocol::via::tcp, false); }
  void send_json(client_id id, const std::string& frame) { h->handle(id, protocol::parse_json_request(frame)); }
  void send_line(client_id id, const std::string& line) {
    if (auto r = protocol::parse_text_line(line)) h->handle(id, std::move(*r));
  }

  config cfg;
  metrics stats;
  std::unique_ptr<hub> h;
};

TEST_F(HubTest, WelcomeThenHistoryOnConnect) {
  make();
  fake_client a;
  ws(a);
  const json welcome = a.next();
  EXPECT_EQ(welcome["type"], "welcome");
  EXPECT_EQ(welcome["nick"], "guest-1");
  EXPECT_EQ(welcome["rooms"], json::array({"lobby"}));
  const json history = a.next();
  EXPECT_EQ(history["type"], "history");
  EXPECT_EQ(history["room"], "lobby");
  EXPECT_TRUE(a.received.empty());
}

TEST_F(HubTest, TextClientGetsTheWelcomeLine) {
  make();
  fake_client t;
  tcp(t);
  EXPECT_EQ(t.text(), "* welcome guest-1, you are in #lobby. /help lists commands\n");
}

TEST_F(HubTest, MessageReachesEveryoneAndTheJsonSenderOnce) {
  make();
  fake_client a, b, t;
  const auto ia = ws(a);
  ws(b);
  tcp(t);
  a.received.clear(), b.received.clear(), t.received.clear();
  send_json(ia, R"({"type":"say","room":"lobby","text":"hi","ref":9})");
  const json mine = a.next();
  EXPECT_EQ(mine["type"], "message");
  EXPECT_EQ(mine["ref"], 9);
  EXPECT_EQ(mine["id"], 1);
  EXPECT_TRUE(a.received.empty());
  const json theirs = b.next();
  EXPECT_EQ(theirs["text"], "hi");
  EXPECT_EQ(theirs["via"], "ws");
  EXPECT_FALSE(theirs.contains("ref"));
  EXPECT_EQ(t.text(), "[lobby] guest-1: hi\n");
}

TEST_F(HubTest, TextSenderDoesNotGetItsOwnMessage) {
  make();
  fake_client t, a;
  const auto it = tcp(t);
  ws(a);
  t.received.clear(), a.received.clear();
  send_line(it, "hello");
  EXPECT_EQ(t.text(), "");
  EXPECT_EQ(a.next()["from"], "guest-1");
}

TEST_F(HubTest, IdsAreSequentialPerRoomAndHistoryReplays) {
  make();
  fake_client a;
  const auto ia = ws(a);
  send_json(ia, R"({"type":"join","room":"dev"})");
  for (int i = 0; i < 3; ++i) send_json(ia, R"({"type":"say","room":"dev","text":"d"})");
  send_json(ia, R"({"type":"say","room":"lobby","text":"l"})");
  a.received.clear();
  fake_client b;
  const auto ib = ws(b);
  b.received.clear();
  send_json(ib, R"({"type":"join","room":"#DEV","ref":"j"})");
  const json joined = b.next();
  EXPECT_EQ(joined["type"], "joined");
  EXPECT_EQ(joined["ref"], "j");
  const json history = b.next();
  ASSERT_EQ(history["messages"].size(), 3u);
  EXPECT_EQ(history["messages"][0]["id"], 1);
  EXPECT_EQ(history["messages"][2]["id"], 3);
  EXPECT_EQ(history["ref"], "j");
  send_json(ib, R"({"type":"join","room":"dev","since":2})");
  EXPECT_EQ(b.next_of("history")["messages"].size(), 1u);
  // the lobby message got id 1 in its own room
  send_json(ib, R"({"type":"join","room":"lobby"})");
  EXPECT_EQ(b.next_of("history")["messages"][0]["id"], 1);
}

TEST_F(HubTest, HistoryIsCapped) {
  cfg.history = 5;
  make();
  fake_client a;
  const auto ia = ws(a);
  for (int i = 0; i < 8; ++i) send_json(ia, R"({"type":"say","room":"lobby","text":"x"})");
  fake_client b;
  ws(b);
  const json history = b.next_of("history");
  ASSERT_EQ(history["messages"].size(), 5u);
  EXPECT_EQ(history["messages"][0]["id"], 4);
}

TEST_F(HubTest, NickRulesAcrossTransports) {
  make();
  fake_client a, t;
  const auto ia = ws(a);
  const auto it = tcp(t);
  send_json(ia, R"({"type":"nick","nick":"Alice","ref":1})");
  json ack = a.next_of("nick");
  EXPECT_EQ(ack["nick"], "Alice");
  EXPECT_EQ(ack["ref"], 1);
  EXPECT_TRUE(a.next_of("nick").is_null());  // exactly once
  t.received.clear();
  send_line(it, "/nick alice");
  EXPECT_EQ(t.text(), "! nick taken: alice\n");
  send_line(it, "/nick no spaces!");
  EXPECT_EQ(t.text(), "! bad nick: no spaces!\n");
  send_json(ia, R"({"type":"nick","nick":"ALICE"})");  // own nick, other case
  EXPECT_EQ(a.next_of("nick")["nick"], "ALICE");
  h->disconnect(ia);
  t.received.clear();
  send_line(it, "/nick alice");
  EXPECT_EQ(t.text(), "* guest-2 is now known as alice\n");
}

// SPEC 9: one forged datagram makes an unvalidated UDP peer; its nick is a
// weak claim, so it can lock nobody validated out of a nick.
TEST_F(HubTest, AnUnvalidatedPeersNickGoesToAValidatedClient) {
  make();
  fake_client u, v, a, t, watcher;
  const auto iu = h->connect(u, protocol::via::udp, false, /*counted=*/false);
  const auto iv = h->connect(v, protocol::via::udp, false, /*counted=*/false);
  const auto ia = ws(a);
  const auto it = tcp(t);
  ws(watcher);
  u.received.clear();
  send_line(iu, "/nick alice");
  EXPECT_EQ(u.text(), "* guest-1 is now known as alice\n");
  // Among unvalidated peers the first keeps it.
  v.received.clear();
  send_line(iv, "/nick ALICE");
  EXPECT_EQ(v.text(), "! nick taken: ALICE\n");
  EXPECT_FALSE(h->nick_in_use("alice"));  // IRC registration may take it
  watcher.received.clear(), a.received.clear();
  send_json(ia, R"({"type":"nick","nick":"Alice","ref":1})");
  EXPECT_EQ(a.next_of("nick")["nick"], "guest-1");  // the peer's rename first
  json ack = a.next_of("nick");
  EXPECT_EQ(ack["nick"], "Alice");
  EXPECT_EQ(ack["ref"], 1);
  EXPECT_EQ(u.text(),
            "* alice is now known as guest-1\n"
            "! nick taken: alice (claimed by a validated client; /ok first to keep a nick)\n");
  // The room hears both renames, the peer's first.
  EXPECT_EQ(watcher.next_of("nick"), (json{{"type", "nick"}, {"old", "alice"}, {"nick", "guest-1"}}));
  EXPECT_EQ(watcher.next_of("nick"), (json{{"type", "nick"}, {"old", "guest-3"}, {"nick", "Alice"}}));
  // The peer goes on chatting under its guest nick.
  send_line(iu, "still here");
  EXPECT_EQ(a.next_of("message")["from"], "guest-1");
  // Once validated its claim is strong, as anyone's.
  EXPECT_TRUE(h->validate(iu));
  send_line(iu, "/nick bob");
  t.received.clear();
  send_line(it, "/nick bob");
  EXPECT_EQ(t.text(), "! nick taken: bob\n");
  EXPECT_TRUE(h->nick_in_use("bob"));
}

TEST_F(HubTest, ARegistrationTakesAWeakNick) {
  make();
  fake_client u, irc;
  const auto iu = h->connect(u, protocol::via::udp, false, /*counted=*/false);
  send_line(iu, "/nick carol");
  u.received.clear();
  const auto ic = h->connect(irc, protocol::via::irc, true, /*counted=*/true, "carol");
  EXPECT_EQ(*h->nick_of(ic), "carol");
  EXPECT_EQ(*h->nick_of(iu), "guest-1");
  EXPECT_EQ(u.text().substr(0, 34), "* carol is now known as guest-1\n! ");
}

TEST_F(HubTest, ErrorsCarryCodesAndRefs) {
  make();
  fake_client a;
  const auto ia = ws(a);
  a.received.clear();
  send_json(ia, R"({"type":"join","room":"no way","ref":"r"})");
  json e = a.next();
  EXPECT_EQ(e["code"], "bad_room");
  EXPECT_EQ(e["ref"], "r");
  send_json(ia, R"({"type":"say","room":"elsewhere","text":"x"})");
  EXPECT_EQ(a.next()["code"], "not_in_room");
  send_json(ia, R"({"type":"leave","room":"elsewhere"})");
  EXPECT_EQ(a.next()["code"], "not_in_room");
  send_json(ia, R"({"type":"nick","nick":""})");
  EXPECT_EQ(a.next()["code"], "bad_nick");
  send_json(ia, "{");
  EXPECT_EQ(a.next()["code"], "bad_request");
  send_json(ia, R"({"type":"say","room":"lobby","text":")" + std::string(4097, 'x') + "\"}");
  EXPECT_EQ(a.next()["code"], "too_long");
  send_json(ia, R"({"type":"say","room":"lobby","text":")" + std::string(4096, 'x') + "\"}");
  EXPECT_EQ(a.next()["type"], "message");
}

TEST_F(HubTest, RateLimitCountsEveryRequest) {
  cfg.rate = 1, cfg.burst = 3;
  make();
  fake_client t;
  const auto it = tcp(t);
  t.received.clear();
  send_line(it, "/who");
  send_line(it, "/bogus");
  send_line(it, "one");
  send_line(it, "two");
  const std::string out = t.text();
  EXPECT_NE(out.find("! unknown command: /bogus (try /help)\n"), std::string::npos);
  EXPECT_NE(out.find("! slow down\n"), std::string::npos);
}

TEST_F(HubTest, TextJoinMovesTheClient) {
  make();
  fake_client t, a;
  const auto it = tcp(t);
  const auto ia = ws(a);
  send_json(ia, R"({"type":"join","room":"dev"})");
  a.received.clear(), t.received.clear();
  send_line(it, "/join #dev");
  EXPECT_EQ(t.text(), "* guest-1 joined #dev\n");
  const json left = a.next();
  EXPECT_EQ(left["type"], "left");
  EXPECT_EQ(left["room"], "lobby");
  const json joined = a.next();
  EXPECT_EQ(joined["type"], "joined");
  EXPECT_EQ(joined["room"], "dev");
  send_line(it, "/who");
  EXPECT_EQ(t.text(), "* guest-2 (ws)\n* guest-1 (tcp)\n");
  send_line(it, "/rooms");
  EXPECT_EQ(t.text(), "* #dev (2)\n* #echo (0)\n* #lobby (1)\n");
}

TEST_F(HubTest, LeaveAndDisconnectTellTheRoom) {
  make();
  fake_client a, b;
  const auto ia = ws(a);
  const auto ib = ws(b);
  a.received.clear(), b.received.clear();
  send_json(ib, R"({"type":"leave","room":"lobby","ref":2})");
  EXPECT_EQ(b.next()["ref"], 2);
  EXPECT_EQ(a.next()["type"], "left");
  send_json(ib, R"({"type":"join","room":"lobby"})");
  a.received.clear();
  h->disconnect(ib);
  h->disconnect(ib);  // twice is harmless
  const json left = a.next();
  EXPECT_EQ(left["type"], "left");
  EXPECT_EQ(left["nick"], "guest-2");
  EXPECT_TRUE(a.received.empty());
  (void)ia;
}

TEST_F(HubTest, ControlCharactersNeverForgeALine) {
  make();
  fake_client a, t;
  const auto ia = ws(a);
  tcp(t);
  t.received.clear();
  send_json(ia, R"({"type":"say","room":"lobby","text":"hi\n[lobby] admin: fake\r\u001b[2J"})");
  EXPECT_EQ(t.text(), "[lobby] guest-1: hi[lobby] admin: fake[2J\n");
}

TEST_F(HubTest, EchoTrafficIsPostedToTheEchoRoom) {
  make();
  fake_client a;
  const auto ia = ws(a);
  send_json(ia, R"({"type":"join","room":"echo"})");
  a.received.clear();
  h->post_echo("127.0.0.1:5000", "ping\r\n");
  const json m = a.next();
  EXPECT_EQ(m["via"], "echo");
  EXPECT_EQ(m["from"], "127.0.0.1:5000");
  EXPECT_EQ(m["text"], "ping");
  h->post_echo("127.0.0.1:5000", "\r\n");  // nothing left to show
  EXPECT_TRUE(a.received.empty());
}

TEST_F(HubTest, QuitSaysByeAndCloses) {
  make();
  fake_client t;
  const auto it = tcp(t);
  t.received.clear();
  send_line(it, "/quit");
  EXPECT_EQ(t.text(), "* bye\n");
  EXPECT_TRUE(t.closed);
}

TEST_F(HubTest, JsonModeSwitchesTheWireFormat) {
  make();
  fake_client t;
  const auto it = tcp(t);
  t.received.clear();
  send_line(it, "/json");
  EXPECT_TRUE(t.json_mode);
  EXPECT_EQ(t.next()["type"], "welcome");
  EXPECT_EQ(t.next()["type"], "history");
}

TEST_F(HubTest, ShutdownTellsTextClientsAndClosesEveryone) {
  make();
  fake_client t, a;
  tcp(t);
  ws(a);
  t.received.clear(), a.received.clear();
  h->shutdown();
  EXPECT_EQ(t.text(), "* server shutting down\n");
  EXPECT_TRUE(t.closed);
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(a.received.empty());  // WebSocket: a close frame 1001 instead
}

TEST_F(HubTest, FullAtMaxClients) {
  cfg.max_clients = 2;
  make();
  fake_client a, b;
  ws(a);
  EXPECT_FALSE(h->full());
  ws(b);
  EXPECT_TRUE(h->full());
}

TEST_F(HubTest, RoomsPerClientAreCapped) {
  cfg.max_rooms_per_client = 2;
  make();
  fake_client a;
  const auto ia = ws(a);
  send_json(ia, R"({"type":"join","room":"two"})");
  a.received.clear();
  send_json(ia, R"({"type":"join","room":"three"})");
  EXPECT_EQ(a.next()["code"], "bad_room");
}

}  // namespace
}  // namespace chatgate

namespace chatgate {
namespace {

TEST_F(HubTest, JsonModeIsForTcpOnly) {
  make();
  fake_client u;
  const auto iu = h->connect(u, protocol::via::udp, false);
  u.received.clear();
  send_line(iu, "/json");
  EXPECT_FALSE(u.json_mode);
  EXPECT_EQ(u.text(), "! /json works over TCP only\n");
}

}  // namespace
}  // namespace chatgate
