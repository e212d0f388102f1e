#include "gateway/message_store.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

protocol::message_ptr message(const std::string& room, std::uint64_t id) {
  protocol::chat_message m{room, "a", protocol::via::ws, "m" + std::to_string(id), id, 0, false};
  return std::make_shared<const protocol::sealed_message>(std::move(m));
}

void add(message_store& s, const std::string& room) {
  const auto id = s.next_id(room);
  s.append(room, message(room, id));
}

TEST(MemoryStore, IdsArePerRoomWithNoGaps) {
  auto s = make_memory_store(100);
  EXPECT_EQ(s->next_id("a"), 1u);
  add(*s, "a");
  add(*s, "a");
  add(*s, "b");
  EXPECT_EQ(s->next_id("a"), 3u);
  EXPECT_EQ(s->next_id("b"), 2u);
}

TEST(MemoryStore, KeepsTheLastNOldestFirst) {
  auto s = make_memory_store(100);
  for (int i = 0; i < 150; ++i) add(*s, "a");
  const auto kept = s->since("a", 0);
  ASSERT_EQ(kept.size(), 100u);
  EXPECT_EQ(kept.front()->msg.id, 51u);
  EXPECT_EQ(kept.back()->msg.id, 150u);
  EXPECT_EQ(s->since("a", 140).size(), 10u);
  EXPECT_TRUE(s->since("a", 150).empty());
  EXPECT_TRUE(s->since("nowhere", 0).empty());
}

TEST(MemoryStore, ZeroCapacityKeepsIdsOnly) {
  auto s = make_memory_store(0);
  add(*s, "a");
  EXPECT_TRUE(s->since("a", 0).empty());
  EXPECT_EQ(s->next_id("a"), 2u);
}

TEST(MemoryStore, ForgetStartsOver) {
  auto s = make_memory_store(10);
  add(*s, "a");
  s->forget("a");
  EXPECT_EQ(s->next_id("a"), 1u);
  EXPECT_TRUE(s->since("a", 0).empty());
}

}  // namespace
}  // namespace chatgate
