#include "gateway/transport/backpressure.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <thread>

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
  // Runs the loop in 100 ms steps, calling `each_step` after each, until
  // `done` holds or 10 s pass. A drop is due 2 s after the last progress;
  // a loaded machine only makes it late, so tests wait for it, not for a time.
  template <class Done, class Step>
  void run_until(Done done, Step each_step) {
    for (int step = 0; step < 100 && !done(); ++step) {
      io.restart();  // polling may have stopped (nothing congested): run_for would return at once
      io.run_for(std::chrono::milliseconds(100));
      each_step();
    }
  }
  template <class Done>
  void run_until(Done done) {
    run_until(done, [] {});
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

// Five of eight congested is overload; stuck ones are dropped until it ends.
// Usually all five pass their 2 s in the same poll and go together; a poll
// that falls between their deadlines (they became congested microseconds
// apart) drops the first alone, and then four congested clients are no
// longer overload: they are left to the queue cap, as slow consumers.
TEST_F(BackpressureTest, StuckClientsAreDroppedUntilTheOverloadEnds) {
  congest(5, 600);
  const auto dropped = [&] {
    int n = 0;
    for (const auto& c : clients) n += c.dropped;
    return n;
  };
  io.run_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(dropped(), 0);  // 2 s first
  run_until([&] { return dropped() > 0; });
  EXPECT_GE(dropped(), 1);
  for (int i = 5; i < 8; ++i) EXPECT_FALSE(clients[i].dropped) << i;  // never congested
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

// The same, with the deadlines far apart: the first stuck client's drop ends
// the overload, and the four others are kept.
TEST_F(BackpressureTest, DroppingStopsWhenTheOverloadEnds) {
  congest(1, 600);
  io.run_for(std::chrono::milliseconds(500));
  for (int i = 1; i < 5; ++i) {
    clients[i].queued = 600;
    bp.check(clients[i]);
  }
  EXPECT_NE(say_answer().find("server busy, slow down"), std::string::npos);
  run_until([&] { return clients[0].dropped; });
  EXPECT_TRUE(clients[0].dropped);
  io.run_for(std::chrono::milliseconds(2500));  // the others' 2 s pass too
  for (int i = 1; i < 5; ++i) EXPECT_FALSE(clients[i].dropped) << i;
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
}

TEST_F(BackpressureTest, AFewSlowClientsAreLeftToTheQueueCap) {
  congest(4, 600);
  io.run_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(clients[i].dropped) << i;
}

// A reader that falls a whole queue behind under overload: what does not
// fit is shed, and it keeps its connection as long as its socket takes bytes.
TEST_F(BackpressureTest, AReaderThatFallsBehindIsShedNotDropped) {
  congest(5, 600);  // overloaded: 5 of 8
  for (int i = 0; i < 5; ++i) bp.shed(clients[i]);
  for (int step = 0; step < 25; ++step) {  // 2.5 s, progress every 100 ms
    io.run_for(std::chrono::milliseconds(100));
    for (int i = 0; i < 5; ++i) bp.progress(clients[i]);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(clients[i].dropped) << i;
}

// The same full queue, but the socket takes nothing: it never reads.
TEST_F(BackpressureTest, AClientThatNeverReadsIsDroppedOnceItsQueueIsFull) {
  clients[0].queued = 1024;
  bp.check(clients[0]);
  bp.shed(clients[0]);  // one client: no overload, only its own full queue
  io.run_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(clients[0].dropped);  // 2 s without progress first
  run_until([&] { return clients[0].dropped; });
  EXPECT_TRUE(clients[0].dropped);
  EXPECT_FALSE(clients[1].dropped);
}

// Readers and non-readers at once, as in bench scenario 3: only the ones
// whose sockets stopped taking bytes go.
TEST_F(BackpressureTest, UnderOverloadOnlyTheNonReadersAreDropped) {
  congest(6, 600);
  for (int i = 0; i < 6; ++i) bp.shed(clients[i]);
  run_until([&] { return clients[4].dropped && clients[5].dropped; },
            [&] { for (int i = 0; i < 4; ++i) bp.progress(clients[i]); });  // 4 read, 2 never do
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(clients[i].dropped) << i;
  EXPECT_TRUE(clients[4].dropped);
  EXPECT_TRUE(clients[5].dropped);
}

// Shedding is the queue cap, not a verdict: a client that drains leaves the
// congested set and starts from zero next time.
TEST_F(BackpressureTest, ADrainedClientIsForgiven) {
  clients[0].queued = 1024;
  bp.check(clients[0]);
  bp.shed(clients[0]);
  io.run_for(std::chrono::milliseconds(1500));
  clients[0].queued = 0;
  io.run_for(std::chrono::milliseconds(50));  // drained: polling stops, so does io
  io.restart();
  clients[0].queued = 1024;
  bp.check(clients[0]);
  bp.shed(clients[0]);
  io.run_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(clients[0].dropped);
}

// Under overload a client is watched from the low-water mark once its
// socket refuses bytes: one that never reads is dropped 2 s later without
// having to fill its queue to the high-water mark first; one whose socket
// keeps taking bytes stays. Watched clients do not make overload.
TEST_F(BackpressureTest, UnderOverloadABlockedNonReaderIsDroppedBeforeItsQueueFills) {
  congest(5, 600);  // overloaded: 5 of 8 above the high-water mark
  for (int i = 5; i < 7; ++i) {
    clients[i].queued = 200;  // above the low-water mark (128), below the high one (512)
    bp.blocked(clients[i]);
  }
  run_until([&] { return clients[6].dropped; },
            [&] { for (int i = 0; i < 6; ++i) bp.progress(clients[i]); });  // client 6 never reads
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(clients[i].dropped) << i;
  EXPECT_TRUE(clients[6].dropped);
}

TEST_F(BackpressureTest, BlockedClientsAreNotOverloadAndAreLeftAloneWithoutIt) {
  for (int i = 0; i < 8; ++i) {
    clients[i].queued = 200;
    bp.blocked(clients[i]);
  }
  EXPECT_NE(say_answer().find("\"type\":\"message\""), std::string::npos);
  io.run_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(clients[i].dropped) << i;
}

// Time the server did not run is nobody's fault: a poll that comes 3 s late
// (the process was not scheduled) does not drop a client that could not
// have been written to meanwhile.
TEST_F(BackpressureTest, AServerThatDidNotRunDropsNobody) {
  clients[0].queued = 1024;
  bp.check(clients[0]);
  bp.shed(clients[0]);
  io.run_for(std::chrono::milliseconds(500));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the loop stands still
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(clients[0].dropped);
  run_until([&] { return clients[0].dropped; });  // now it runs, and the client takes nothing
  EXPECT_TRUE(clients[0].dropped);
}

}  // namespace
}  // namespace chatgate
