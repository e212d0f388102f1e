// The hub's side of SPEC 12: direct messages, topics, text /leave.
#include "gateway/hub/hub.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "protocol/json_request.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

using json = nlohmann::json;

struct recorder : participant {
  void deliver(const shared_bytes& bytes) override { received.push_back(*bytes); }
  void close() override {}
  void drop_slow() override {}
  std::size_t queued_bytes() const override { return 0; }

  json next() {
    if (received.empty()) return nullptr;
    json j = json::parse(received.front());
    received.pop_front();
    return j;
  }
  std::string text() {
    std::string all;
    for (auto& r : received) all += r;
    received.clear();
    return all;
  }
  std::deque<std::string> received;
};

class Conversations : public ::testing::Test {
 protected:
  Conversations() {
    cfg.rate = 1e9, cfg.burst = 1e9;
    h = std::make_unique<hub>(cfg, stats, make_memory_store(cfg.history));
  }
  client_id ws(recorder& c, const std::string& nick) {
    const client_id id = h->connect(c, protocol::via::ws, true);
    json_in(id, R"({"type":"nick","nick":")" + nick + "\"}");
    return id;
  }
  client_id tcp(recorder& c, const std::string& nick) {
    const client_id id = h->connect(c, protocol::via::tcp, false);
    line(id, "/nick " + nick);
    return id;
  }
  void json_in(client_id id, const std::string& frame) { h->handle(id, protocol::parse_json_request(frame)); }
  void line(client_id id, const std::string& l) {
    if (auto r = protocol::parse_text_line(l)) h->handle(id, std::move(*r));
  }

  config cfg;
  metrics stats;
  std::unique_ptr<hub> h;
};

TEST_F(Conversations, DirectMessageReachesOnlyItsRecipient) {
  recorder a, b, c;
  const auto ia = ws(a, "alice");
  tcp(b, "bob");
  tcp(c, "carol");
  a.received.clear(), b.received.clear(), c.received.clear();
  json_in(ia, R"({"type":"say","to":"BOB","text":"psst","ref":3})");
  const json ack = a.next();
  EXPECT_EQ(ack["to"], "bob");
  EXPECT_EQ(ack["ref"], 3);
  EXPECT_FALSE(ack.contains("room"));
  EXPECT_FALSE(ack.contains("id"));
  EXPECT_TRUE(a.received.empty());
  EXPECT_EQ(b.text(), "*alice* psst\n");
  EXPECT_EQ(c.text(), "");
  EXPECT_EQ(stats.direct_messages, 1u);
  EXPECT_EQ(stats.messages, 0u);
}

TEST_F(Conversations, TextSenderGetsNoCopy) {
  recorder a, b;
  ws(a, "alice");
  const auto ib = tcp(b, "bob");
  a.received.clear(), b.received.clear();
  line(ib, "/msg alice hi");
  EXPECT_EQ(a.next()["text"], "hi");
  EXPECT_EQ(b.text(), "");
}

TEST_F(Conversations, UnknownNickAfterLeaving) {
  recorder a, b;
  const auto ia = tcp(a, "alice");
  const auto ib = tcp(b, "bob");
  h->disconnect(ib);
  a.received.clear();
  line(ia, "/msg bob hi");
  EXPECT_EQ(a.text(), "! no such nick: bob\n");
}

TEST_F(Conversations, RenameMovesTheDirectAddress) {
  recorder a, b;
  const auto ia = tcp(a, "alice");
  const auto ib = tcp(b, "bob");
  line(ib, "/nick robert");
  a.received.clear(), b.received.clear();
  line(ia, "/msg bob hi");
  EXPECT_EQ(a.text(), "! no such nick: bob\n");
  line(ia, "/msg Robert hi");
  EXPECT_EQ(b.text(), "*alice* hi\n");
}

TEST_F(Conversations, DirectMessagesAreNotInHistory) {
  recorder a, b;
  const auto ia = tcp(a, "alice");
  tcp(b, "bob");
  line(ia, "/msg bob secret");
  recorder late;
  h->connect(late, protocol::via::ws, true);
  late.next();  // welcome
  EXPECT_EQ(late.next()["messages"], json::array());
}

TEST_F(Conversations, DirectMessageLimits) {
  cfg.max_message_bytes = 4;
  recorder a, b;
  const auto ia = ws(a, "alice");
  tcp(b, "bob");
  a.received.clear(), b.received.clear();
  json_in(ia, R"({"type":"say","to":"bob","text":"12345"})");
  EXPECT_EQ(a.next()["code"], "too_long");
  json_in(ia, R"({"type":"say","to":"bob","text":"\u0001\u0002"})");
  EXPECT_EQ(a.next()["code"], "bad_request");
  json_in(ia, R"({"type":"say","to":"bob","text":"a\u001bb"})");
  EXPECT_EQ(a.next()["text"], "ab");
  EXPECT_EQ(b.text(), "*alice* ab\n");
}

TEST_F(Conversations, TopicChangeReachesMembersAndJoiners) {
  recorder a, b, outsider;
  const auto ia = tcp(a, "alice");
  const auto ib = ws(b, "bob");
  ws(outsider, "olga");
  line(ia, "/join dev");
  json_in(ib, R"({"type":"join","room":"dev"})");
  a.received.clear(), b.received.clear(), outsider.received.clear();
  line(ia, "/topic  ship it ");
  EXPECT_EQ(a.text(), "* topic of #dev: ship it (set by alice)\n");
  const json ev = b.next();
  EXPECT_EQ(ev["type"], "topic");
  EXPECT_EQ(ev["room"], "dev");
  EXPECT_EQ(ev["topic"], "ship it");
  EXPECT_EQ(ev["by"], "alice");
  EXPECT_GT(ev["ts"].get<std::int64_t>(), 0);
  EXPECT_TRUE(outsider.received.empty());

  recorder c;
  const auto ic = ws(c, "carl");
  c.received.clear();
  json_in(ic, R"({"type":"join","room":"dev","ref":"j"})");
  EXPECT_EQ(c.next()["type"], "joined");
  const json topic = c.next();
  EXPECT_EQ(topic["type"], "topic");
  EXPECT_FALSE(topic.contains("ref"));  // a join is answered by joined + history
  EXPECT_EQ(c.next()["ref"], "j");

  json_in(ic, R"({"type":"rooms"})");
  const json rooms = c.next();  // kept: the loop must not walk a temporary
  for (const auto& r : rooms["rooms"])
    EXPECT_EQ(r["topic"], r["room"] == "dev" ? "ship it" : "") << r;
}

TEST_F(Conversations, TopicQuestionsAndClearing) {
  recorder a, t;
  const auto ia = ws(a, "alice");
  const auto it = tcp(t, "tom");
  a.received.clear(), t.received.clear();
  line(it, "/topic");
  EXPECT_EQ(t.text(), "* no topic in #lobby\n");
  json_in(ia, R"({"type":"topic","room":"lobby","topic":"x"})");
  json_in(ia, R"({"type":"topic","room":"lobby","topic":""})");
  EXPECT_EQ(t.text(), "* topic of #lobby: x (set by alice)\n* topic of #lobby cleared by alice\n");
  a.received.clear();
  json_in(ia, R"({"type":"topic","room":"lobby"})");
  const json now = a.next();
  EXPECT_EQ(now["topic"], "");
  EXPECT_EQ(now["by"], "");
  EXPECT_EQ(now["ts"], 0);
  EXPECT_TRUE(t.received.empty());
}

TEST_F(Conversations, TopicLimits) {
  cfg.max_message_bytes = 5;
  recorder a;
  const auto ia = ws(a, "alice");
  a.received.clear();
  json_in(ia, R"({"type":"topic","room":"lobby","topic":"123456"})");
  EXPECT_EQ(a.next()["code"], "too_long");
  json_in(ia, R"({"type":"topic","room":"lobby","topic":"1\u00072"})");
  EXPECT_EQ(a.next()["topic"], "12");
  json_in(ia, R"({"type":"topic","room":"other","topic":"x"})");
  EXPECT_EQ(a.next()["code"], "not_in_room");
}

TEST_F(Conversations, LeaveTakesATextClientHome) {
  recorder t, lobby_peer;
  const auto it = tcp(t, "tom");
  tcp(lobby_peer, "lou");
  line(it, "/join dev");
  t.received.clear(), lobby_peer.received.clear();
  line(it, "/leave");
  EXPECT_EQ(t.text(), "* tom left #dev\n* tom joined #lobby\n");
  EXPECT_EQ(lobby_peer.text(), "* tom joined #lobby\n");
  line(it, "/part");
  EXPECT_EQ(t.text(), "! you are in the default room #lobby\n");
  EXPECT_EQ(lobby_peer.text(), "");
}

TEST_F(Conversations, TopicWaitsForUdpValidationLikeTheHistory) {
  recorder a, u;
  const auto ia = ws(a, "alice");
  json_in(ia, R"({"type":"topic","room":"lobby","topic":"house rules"})");
  json_in(ia, R"({"type":"say","room":"lobby","text":"hi"})");
  const auto iu = h->connect(u, protocol::via::udp, /*json=*/false, /*counted=*/false);
  line(iu, "/nick udo");
  EXPECT_EQ(u.text().find("topic"), std::string::npos);
  ASSERT_TRUE(h->validate(iu));
  EXPECT_EQ(u.text(), "* topic of #lobby: house rules (set by alice)\n[lobby] alice: hi\n");
}

}  // namespace
}  // namespace chatgate
