#include "gateway/transport/backpressure.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "gateway/hub/hub.hpp"
#include "protocol/json_request.hpp"

namespace chatgate {
namespace {

struct queued_client : participant {
  void deliver(const shared_bytes& bytes) override { last = *bytes; }
  void close() override {}
  std::size_t queued_bytes() const override { return queued; }
  void drop_slow() override { dropped = true; }
  bool dropped = false;
  std::size_t queued = 0;
  std::string last;
};

class BackpressureTest : public ::testing::Test {
 protected:
  BackpressureTest() {
    cfg.rate = cfg.burst = 1e9;
    for (auto& c : clients) ids.push_back(h->connect(c, protocol::via::ws, true));
  }
  std::string say_answer() {
    h->handle(ids[0], protocol::parse_json_request(R"({"type":"say","room":"lobby","text":"x"})"));
    return clients[0].last;
  }
  void congest(int n, std::size_t bytes) {
    for (int i = 0; i < n; ++i) {
      clients[i].queued = bytes;
      bp.check(clients[i]);
    }
  }

  config cfg;
  metrics stats;
  std::unique_ptr<hub> h = std::make_unique<hub>(cfg, stats, make_memory_store(10));
  std::array<queued_client, 8> clients;
  std::vector<client_id> ids;
  asio::io_context io;
  backpressure bp{io, *h, 1024};  // high water 512 bytes, low water 128
};

TEST_F(BackpressureTest, AFewSlowClientsAreNotOverload) {
  congest(4, 600);
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

TEST_F(BackpressureTest, ManyCongestedClientsShedMessagesUntilTheyDrain) {
  congest(5, 600);
  EXPECT_NE(say_answer().find("server busy, slow down"), std::string::npos);
  for (auto& c : clients) c.queued = 0;
  io.run_for(std::chrono::milliseconds(50));  // the 2 ms re-check sees them drained
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

TEST_F(BackpressureTest, ForgettingAClientEndsItsCongestion) {
  congest(5, 600);
  bp.forget(clients[0]);
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

TEST_F(BackpressureTest, ClientsStuckWhileSheddingAreDropped) {
  congest(5, 600);
  io.run_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(clients[i].dropped) << i;
  EXPECT_FALSE(clients[5].dropped);
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

TEST_F(BackpressureTest, AFewSlowClientsAreLeftToTheQueueCap) {
  congest(4, 600);
  io.run_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(clients[i].dropped) << i;
}

}  // namespace
}  // namespace chatgate
