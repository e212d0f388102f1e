#include "protocol/names.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

TEST(RoomNames, LowerCasesAndStripsOneHash) {
  EXPECT_EQ(normalize_room("#Lobby"), "lobby");
  EXPECT_EQ(normalize_room("dev_ops-2"), "dev_ops-2");
  EXPECT_EQ(normalize_room("##two"), std::nullopt);
}

TEST(RoomNames, LengthIsOneToThirtyTwo) {
  EXPECT_EQ(normalize_room(""), std::nullopt);
  EXPECT_EQ(normalize_room("#"), std::nullopt);
  EXPECT_EQ(normalize_room(std::string(32, 'a')), std::string(32, 'a'));
  EXPECT_EQ(normalize_room("#" + std::string(32, 'a')), std::string(32, 'a'));
  EXPECT_EQ(normalize_room(std::string(33, 'a')), std::nullopt);
}

TEST(RoomNames, RejectsOtherCharacters) {
  for (const char* bad : {"a b", "a.b", "a/b", "caf\xc3\xa9", "a\nb", "a#b", "a:b"})
    EXPECT_EQ(normalize_room(bad), std::nullopt) << bad;
}

TEST(Nicks, OneToTwentyFourOfTheAllowedCharacters) {
  EXPECT_TRUE(is_valid_nick("Alice_B-2"));
  EXPECT_TRUE(is_valid_nick(std::string(24, 'x')));
  EXPECT_FALSE(is_valid_nick(std::string(25, 'x')));
  EXPECT_FALSE(is_valid_nick(""));
  EXPECT_FALSE(is_valid_nick("al ice"));
  EXPECT_FALSE(is_valid_nick("al#ice"));
  EXPECT_FALSE(is_valid_nick("\xc3\xa9mile"));
}

TEST(Nicks, FoldIgnoresCase) { EXPECT_EQ(fold_nick("AlIcE-9"), "alice-9"); }

}  // namespace
}  // namespace chatgate::protocol
