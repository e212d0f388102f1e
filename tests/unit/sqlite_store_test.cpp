#include "gateway/store/sqlite_store.hpp"

#include <algorithm>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gateway/ops/startup_error.hpp"

namespace chatgate {
namespace {

class SqliteStore : public ::testing::Test {
 protected:
  SqliteStore() {
    char tmpl[] = "/tmp/chatgate-sqlite-XXXXXX";
    dir_ = mkdtemp(tmpl);
    cfg_.db = dir_ + "/chat.db";
    cfg_.history = 5;
    cfg_.db_retain = 20;
  }
  ~SqliteStore() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  message_store& open() {
    store_.reset();
    store_ = make_sqlite_store(io_, cfg_, stats_);
    return *store_;
  }

  // Publishes and runs the loop until the store answers; returns the id (0: refused).
  std::uint64_t add(const std::string& room, std::string text = "m") {
    std::uint64_t id = 0;
    bool answered = false;
    store_->publish(protocol::chat_message{room, "ann", protocol::via::tcp, std::move(text), 0, 42, false},
                    [&](std::error_code ec, protocol::message_ptr m) {
                      answered = true;
                      if (!ec) id = m->msg->id;
                    });
    EXPECT_FALSE(answered) << "delivered before its commit";
    io_.restart();
    io_.run();
    EXPECT_TRUE(answered);
    return id;
  }

  std::vector<std::uint64_t> ids(const std::string& room, std::uint64_t after) {
    std::vector<std::uint64_t> out;
    store_->history(room, after, 1 << 20, [&](std::error_code ec, std::vector<protocol::stored_ptr> v) {
      EXPECT_FALSE(ec);
      for (auto& m : v) out.push_back(m->id);
    });
    return out;
  }

  static std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> v;
    for (auto i = from; i <= to; ++i) v.push_back(i);
    return v;
  }

  std::string dir_;
  config cfg_;
  metrics stats_;
  asio::io_context io_{1};
  std::unique_ptr<message_store> store_;
};

TEST_F(SqliteStore, IdsContinueAfterReopen) {
  open();
  for (int i = 0; i < 3; ++i) add("a");
  EXPECT_EQ(add("b"), 1u);
  open();
  EXPECT_EQ(add("a"), 4u);
  EXPECT_EQ(add("b"), 2u);
  EXPECT_EQ(stats_.persisted, 6u);
}

TEST_F(SqliteStore, ReservedNicksAreKeptOnceWhateverTheCase) {
  open();
  store_->reserve_nick("Alice");
  store_->reserve_nick("ALICE");  // the same nick: kept once, as first spelled
  store_->reserve_nick("bob");
  io_.restart();
  io_.run();
  open();
  std::vector<std::string> got;
  store_->reserved_nicks([&](std::error_code ec, std::vector<std::string> nicks) {
    EXPECT_FALSE(ec);
    got = std::move(nicks);
  });
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"Alice", "bob"}));
}

TEST_F(SqliteStore, OneBatchOneCommitInOrder) {
  open();
  std::vector<std::uint64_t> order;
  for (int i = 0; i < 10; ++i)
    store_->publish(protocol::chat_message{"a", "ann", protocol::via::ws, "t" + std::to_string(i)},
                    [&](std::error_code ec, protocol::message_ptr m) {
                      ASSERT_FALSE(ec);
                      order.push_back(m->msg->id);
                    });
  io_.run();
  EXPECT_EQ(order, range(1, 10));
  EXPECT_EQ(stats_.commits, 1u);
}

TEST_F(SqliteStore, ABigBatchOfTwoRoomsIsKeptWhole) {
  // 16 rows per INSERT while they last, then one at a time: 37 + 20 rows.
  cfg_.db_retain = 100;
  cfg_.history = 100;
  open();
  for (int i = 0; i < 57; ++i)
    store_->publish(protocol::chat_message{i % 3 ? "a" : "b", "n" + std::to_string(i), protocol::via::irc,
                                           "t" + std::to_string(i), 0, 1000 + i, i % 2 == 0},
                    [](std::error_code ec, protocol::message_ptr) { ASSERT_FALSE(ec); });
  io_.run();
  EXPECT_EQ(stats_.commits, 1u);
  open();  // from disk
  std::vector<std::string> got;
  for (const char* room : {"a", "b"})
    store_->history(room, 0, 1 << 20, [&](std::error_code ec, std::vector<protocol::stored_ptr> v) {
      ASSERT_FALSE(ec);
      for (std::size_t k = 0; k < v.size(); ++k) {
        const auto& m = *v[k];
        EXPECT_EQ(m.id, k + 1);
        const int i = std::stoi(m.text.substr(1));
        EXPECT_EQ(m.from, "n" + std::to_string(i));
        EXPECT_EQ(m.ts, 1000 + i);
        EXPECT_EQ(m.me, i % 2 == 0);
        EXPECT_EQ(m.source, protocol::via::irc);
        got.push_back(m.room + m.text);
      }
    });
  ASSERT_EQ(got.size(), 57u);
  std::vector<std::string> want;
  for (int i = 0; i < 57; ++i)
    if (i % 3) want.push_back("at" + std::to_string(i));
  for (int i = 0; i < 57; i += 3) want.push_back("bt" + std::to_string(i));
  EXPECT_EQ(got, want);
}

TEST_F(SqliteStore, HistoryFromCacheAndFromDisk) {
  open();
  for (int i = 0; i < 12; ++i) add("a", "text " + std::to_string(i + 1));
  EXPECT_EQ(ids("a", 0), range(8, 12));   // the last --history
  EXPECT_EQ(ids("a", 2), range(3, 12));   // older than the cache: the disk
  EXPECT_EQ(ids("a", 10), range(11, 12));
  open();  // a restart: an empty cache
  EXPECT_EQ(ids("a", 0), range(8, 12));
  EXPECT_EQ(ids("a", 1), range(2, 12));
  std::vector<protocol::stored_ptr> got;
  store_->history("a", 11, 1 << 20, [&](std::error_code, std::vector<protocol::stored_ptr> v) { got = v; });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->text, "text 12");
  EXPECT_EQ(got[0]->from, "ann");
  EXPECT_EQ(got[0]->source, protocol::via::tcp);
  EXPECT_EQ(got[0]->ts, 42);
  EXPECT_EQ(got[0]->room, "a");
}

TEST_F(SqliteStore, SinceRepliesAreBoundedByBytes) {
  open();
  for (int i = 0; i < 15; ++i) add("a", std::string(1000, 'x'));
  open();
  std::size_t n = 0;
  store_->history("a", 1, 3000, [&](std::error_code, std::vector<protocol::stored_ptr> v) { n = v.size(); });
  EXPECT_EQ(n, 3u);  // oldest first; the client asks again from the last id
}

TEST_F(SqliteStore, RetentionKeepsTheLastNPerRoom) {
  open();
  for (int i = 0; i < 50; ++i) add("a");
  EXPECT_EQ(ids("a", 1), range(31, 50));
  open();
  EXPECT_EQ(ids("a", 1), range(31, 50));
  EXPECT_EQ(add("a"), 51u);
}

TEST_F(SqliteStore, LoweredRetentionPrunesAFewHundredRowsPerCommit) {
  cfg_.db_retain = 1000;
  open();
  for (int i = 0; i < 1000; ++i) add("a");
  cfg_.db_retain = 10;
  open();
  // One commit deletes at most 256 old rows (a prune never stalls the loop)...
  EXPECT_EQ(add("a"), 1001u);
  EXPECT_EQ(ids("a", 1).front(), 257u);
  EXPECT_EQ(add("a"), 1002u);
  EXPECT_EQ(ids("a", 1).front(), 513u);
  EXPECT_EQ(add("a"), 1003u);
  EXPECT_EQ(ids("a", 1).front(), 769u);
  // ...until the room is down to --db-retain.
  EXPECT_EQ(add("a"), 1004u);
  EXPECT_EQ(ids("a", 1), range(995, 1004));
  EXPECT_EQ(add("a"), 1005u);
  EXPECT_EQ(ids("a", 1), range(996, 1005));
}

TEST_F(SqliteStore, SinceBeyondEveryIdIsEmpty) {
  open();
  for (int i = 0; i < 5; ++i) add("a");
  open();  // nothing cached: the disk answers
  EXPECT_EQ(ids("a", 6), range(1, 0));
  EXPECT_EQ(ids("a", (std::uint64_t{1} << 40) + 2), range(1, 0));  // not id 2 of room number 1
  EXPECT_EQ(ids("a", ~std::uint64_t{0}), range(1, 0));
  EXPECT_EQ(ids("a", 3), range(4, 5));
}

TEST_F(SqliteStore, TopicsSurviveReopen) {
  open();
  bool ok = false;
  store_->set_topic("a", topic_record{"release day", "ann", 7}, [&](std::error_code ec) { ok = !ec; });
  io_.run();
  EXPECT_TRUE(ok);
  open();
  std::optional<topic_record> t;
  store_->topic("a", [&](std::error_code, std::optional<topic_record> r) { t = r; });
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, "release day");
  EXPECT_EQ(t->by, "ann");
  EXPECT_EQ(t->ts, 7);
  EXPECT_EQ(add("a"), 1u);  // a topic does not move the ids
}

TEST_F(SqliteStore, ASecondStoreOnTheSameFileIsRefused) {
  open();
  metrics other_stats;
  try {
    make_sqlite_store(io_, cfg_, other_stats);
    FAIL() << "opened twice";
  } catch (const startup_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another chatgate"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStore, GarbageIsRefusedAndLeftAlone) {
  { std::ofstream(cfg_.db) << std::string(5000, 'g'); }
  EXPECT_THROW(open(), startup_error);
  std::ifstream in(cfg_.db);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string(5000, 'g'));
}

TEST_F(SqliteStore, CloseCommitsWhatTheLoopDidNotGetTo) {
  open();
  add("a");
  store_->publish(protocol::chat_message{"a", "ann", protocol::via::ws, "late"},
                  [](std::error_code, protocol::message_ptr) { ADD_FAILURE() << "told after close"; });
  store_->close();
  open();
  EXPECT_EQ(ids("a", 0), range(1, 2));
}

}  // namespace
}  // namespace chatgate
