#include "gateway/hub/presence.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "gateway/hub/hub.hpp"
#include "protocol/json_request.hpp"

namespace chatgate {
namespace {

using json = nlohmann::json;

struct recorder : participant {
  void deliver(const shared_bytes& bytes) override {
    received.push_back(*bytes);
    bytes_in += bytes->size();
  }
  void close() override {}
  std::size_t queued_bytes() const override { return 0; }
  void drop_slow() override {}
  std::vector<json> take() {
    std::vector<json> out;
    for (auto& r : received) out.push_back(json::parse(r));
    received.clear();
    return out;
  }
  std::deque<std::string> received;
  std::size_t bytes_in = 0;
};

TEST(Presence, AnnouncedUpToTheLimitCountingTheOneWhoCameOrWent) {
  EXPECT_TRUE(announce_each(1, 3));
  EXPECT_TRUE(announce_each(3, 3));
  EXPECT_FALSE(announce_each(4, 3));
  EXPECT_TRUE(announce_each(1000000, 0));  // 0: no limit
}

TEST(Presence, TallyHandsOutOneEventAndStartsAgain) {
  presence_tally t;
  EXPECT_FALSE(t.pending());
  t.joined();
  t.joined();
  t.left();
  ASSERT_TRUE(t.pending());
  auto e = t.take("big", 41);
  EXPECT_EQ(e.room, "big");
  EXPECT_EQ(e.members, 41u);
  EXPECT_EQ(e.joined, 2u);
  EXPECT_EQ(e.left, 1u);
  EXPECT_FALSE(t.pending());
}

class HubPresence : public ::testing::Test {
 protected:
  HubPresence() {
    cfg.rate = cfg.burst = 1e9;
    cfg.presence_limit = 3;
  }
  client_id ws(recorder& r) { return h->connect(r, protocol::via::ws, true); }
  void send(client_id id, const std::string& frame) { h->handle(id, protocol::parse_json_request(frame)); }

  config cfg;
  metrics stats;
  std::unique_ptr<hub> h = std::make_unique<hub>(cfg, stats, make_memory_store(10));
};

TEST_F(HubPresence, AboveTheLimitJoinsAreCountedAndToldOnce) {
  std::array<recorder, 5> r;
  std::vector<client_id> ids;
  for (auto& c : r) ids.push_back(ws(c));
  auto first = r[0].take();
  std::size_t joined = 0;
  for (auto& e : first) joined += e["type"] == "joined";
  EXPECT_EQ(joined, 2u);  // the 2nd and 3rd; the 4th and 5th made the room bigger than 3
  h->flush_presence();
  auto tick = r[0].take();
  ASSERT_EQ(tick.size(), 1u);
  EXPECT_EQ(tick[0], json::parse(R"({"type":"presence","room":"lobby","members":5,"joined":2,"left":0})"));
  h->flush_presence();  // nothing happened since
  EXPECT_TRUE(r[0].take().empty());
  h->disconnect(ids[4]);  // from 5: counted
  h->disconnect(ids[3]);  // from 4: counted
  h->disconnect(ids[2]);  // from 3: announced
  auto events = r[0].take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "left");
  h->flush_presence();
  tick = r[0].take();
  ASSERT_EQ(tick.size(), 1u);
  EXPECT_EQ(tick[0]["members"], 2);
  EXPECT_EQ(tick[0]["left"], 2);
}

// What joining costs the joiner does not grow with the room.
TEST_F(HubPresence, TheJoinerGetsTheSameBytesInARoomOfTenOrOfFiveHundred) {
  auto join_cost = [&](const std::string& room, std::size_t n) {
    std::vector<std::unique_ptr<recorder>> crowd;
    std::vector<client_id> ids;
    for (std::size_t i = 0; i < n; ++i) {
      crowd.push_back(std::make_unique<recorder>());
      ids.push_back(ws(*crowd.back()));
      send(ids.back(), R"({"type":"join","room":")" + room + R"("})");
    }
    recorder late;
    ids.push_back(ws(late));
    late.bytes_in = 0;
    send(ids.back(), R"({"type":"join","room":")" + room + R"("})");
    const std::size_t cost = late.bytes_in;
    for (client_id id : ids) h->disconnect(id);  // before the recorders go
    return cost;
  };
  const std::size_t ten = join_cost("ten", 10);
  const std::size_t many = join_cost("many", 500);
  // The names differ by one character; the counts by two digits.
  EXPECT_LE(many, ten + 8);
  EXPECT_GT(ten, 0u);
}

TEST_F(HubPresence, WhoIsExactAndALimitedWhoSaysHowManyInAll) {
  std::array<recorder, 6> r;
  std::vector<client_id> ids;
  for (auto& c : r) ids.push_back(ws(c));
  r[0].take();
  send(ids[0], R"({"type":"who","room":"lobby"})");
  auto all = r[0].take();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["members"].size(), 6u);
  EXPECT_FALSE(all[0].contains("count"));
  send(ids[0], R"({"type":"who","room":"lobby","limit":2})");
  auto some = r[0].take();
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0]["members"].size(), 2u);
  EXPECT_EQ(some[0]["count"], 6);
  send(ids[0], R"({"type":"who","room":"lobby","limit":-1})");
  EXPECT_EQ(r[0].take().at(0)["code"], "bad_request");
}

TEST_F(HubPresence, WelcomeSaysTheLimit) {
  recorder r;
  ws(r);
  auto events = r.take();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["type"], "welcome");
  EXPECT_EQ(events[0]["presence_limit"], 3);
}

}  // namespace
}  // namespace chatgate
