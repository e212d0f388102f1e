#include "gateway/store/message_store.hpp"

#include <gtest/gtest.h>

#include "gateway/hub/history_cache.hpp"

namespace chatgate {
namespace {

// Publishes and returns the id the store gave (the memory store answers at once).
std::uint64_t add(message_store& s, const std::string& room, std::string text = "m") {
  std::uint64_t id = 0;
  s.publish(protocol::chat_message{room, "a", protocol::via::ws, std::move(text)},
            [&](std::error_code ec, protocol::message_ptr m) {
              EXPECT_FALSE(ec);
              id = m->msg->id;
            });
  return id;
}

std::vector<protocol::stored_ptr> since(message_store& s, const std::string& room, std::uint64_t after) {
  std::vector<protocol::stored_ptr> out;
  s.history(room, after, 1 << 20, [&](std::error_code, std::vector<protocol::stored_ptr> v) { out = std::move(v); });
  return out;
}

TEST(MemoryStore, IdsArePerRoomWithNoGaps) {
  auto s = make_memory_store(100);
  EXPECT_EQ(add(*s, "a"), 1u);
  EXPECT_EQ(add(*s, "a"), 2u);
  EXPECT_EQ(add(*s, "b"), 1u);
  EXPECT_EQ(add(*s, "a"), 3u);
}

TEST(MemoryStore, KeepsTheLastNOldestFirst) {
  auto s = make_memory_store(100);
  for (int i = 0; i < 150; ++i) add(*s, "a");
  const auto kept = since(*s, "a", 0);
  ASSERT_EQ(kept.size(), 100u);
  EXPECT_EQ(kept.front()->id, 51u);
  EXPECT_EQ(kept.back()->id, 150u);
  EXPECT_EQ(since(*s, "a", 140).size(), 10u);
  EXPECT_TRUE(since(*s, "a", 150).empty());
  EXPECT_TRUE(since(*s, "nowhere", 0).empty());
}

TEST(MemoryStore, ZeroCapacityKeepsIdsOnly) {
  auto s = make_memory_store(0);
  add(*s, "a");
  EXPECT_TRUE(since(*s, "a", 0).empty());
  EXPECT_EQ(add(*s, "a"), 2u);
}

TEST(MemoryStore, ForgetStartsOver) {
  auto s = make_memory_store(10);
  add(*s, "a");
  s->forget("a");
  EXPECT_EQ(s->history_bytes(), 0u);
  EXPECT_TRUE(since(*s, "a", 0).empty());
  EXPECT_EQ(add(*s, "a"), 1u);
}

TEST(MemoryStore, TopicsAreKeptPerRoom) {
  auto s = make_memory_store(10);
  s->set_topic("a", topic_record{"hello", "bob", 5}, [](std::error_code ec) { EXPECT_FALSE(ec); });
  std::optional<topic_record> got, none;
  s->topic("a", [&](std::error_code, std::optional<topic_record> t) { got = t; });
  s->topic("b", [&](std::error_code, std::optional<topic_record> t) { none = t; });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text, "hello");
  EXPECT_EQ(got->by, "bob");
  EXPECT_FALSE(none);
}

// SPEC 9: all rooms' history within --history-bytes, idle rooms first.
TEST(MemoryStore, HistoryBytesAreCappedIdleRoomsFirst) {
  const std::string text(4096, 'x');
  auto s = make_memory_store(100, 1 << 20);
  for (int room = 0; room < 20; ++room)
    for (int i = 0; i < 20; ++i) add(*s, "r" + std::to_string(room), text);
  EXPECT_LE(s->history_bytes(), std::size_t{1} << 20);
  // Whole rooms go: at most one room's worth (20 messages) below the cap.
  EXPECT_GT(s->history_bytes(), (std::size_t{1} << 20) - 20 * (4096 + 512));
  // The rooms written to last keep everything, the first ones lost it all.
  EXPECT_EQ(since(*s, "r19", 0).size(), 20u);
  EXPECT_TRUE(since(*s, "r0", 0).empty());
  // Ids are not forgotten with the history.
  EXPECT_EQ(add(*s, "r0", text), 21u);
}

TEST(MemoryStore, OneRoomShedsItsOldestWhenAlone) {
  const std::string text(4096, 'x');
  auto s = make_memory_store(100, 64 * 1024);
  for (int i = 0; i < 100; ++i) add(*s, "a", text);
  const auto kept = since(*s, "a", 0);
  EXPECT_LE(s->history_bytes(), 64u * 1024);
  ASSERT_GE(kept.size(), 10u);
  EXPECT_EQ(kept.back()->id, 100u);
  EXPECT_EQ(kept.front()->id, 100u - kept.size() + 1);
}

TEST(HistoryCache, AMessageCostsAtMostItsTextPlus512) {
  for (std::size_t n : {0, 1, 15, 16, 100, 4096}) {
    protocol::chat_message m{std::string(32, 'r'), std::string(24, 'n'), protocol::via::ws, std::string(n, 'x')};
    EXPECT_LE(history_cache::cost(m), n + 512) << n;
    EXPECT_GE(history_cache::cost(m), n) << n;
  }
}

TEST(HistoryCache, AnswersOnlyWhatItHoldsEntirely) {
  history_cache c(3, 1 << 20);
  auto msg = [](std::uint64_t id) {
    auto m = std::make_shared<protocol::chat_message>();
    m->room = "a";
    m->id = id;
    m->text = "t";
    return protocol::stored_ptr(m);
  };
  EXPECT_FALSE(c.answers("a", 0));
  c.append("a", msg(7));  // ids 1-6 are elsewhere (on disk)
  EXPECT_FALSE(c.answers("a", 0));
  EXPECT_FALSE(c.answers("a", 5));
  EXPECT_TRUE(c.answers("a", 6));
  c.fill("a", {msg(5), msg(6), msg(7)});
  EXPECT_TRUE(c.answers("a", 0));
  EXPECT_TRUE(c.answers("a", 4));
  EXPECT_FALSE(c.answers("a", 3));
  c.append("a", msg(8));
  EXPECT_EQ(c.since("a", 0).front()->id, 6u);
  EXPECT_FALSE(c.answers("a", 4));
  EXPECT_TRUE(c.answers("a", 5));
}

}  // namespace
}  // namespace chatgate
