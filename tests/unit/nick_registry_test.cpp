#include "gateway/hub/nick_registry.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

TEST(nick_registry, nicks_are_unique_whatever_the_case) {
  nick_registry nicks;
  EXPECT_TRUE(nicks.claim("Alice"));
  EXPECT_FALSE(nicks.claim("alice"));
  EXPECT_TRUE(nicks.taken("ALICE"));
  nicks.release("aLiCe");
  EXPECT_FALSE(nicks.taken("alice"));
}

// One table answers "taken" and "who has it" (the hub keeps no second one).
TEST(nick_registry, the_owner_of_a_nick_is_found_whatever_the_case) {
  nick_registry nicks;
  int alice = 0;
  int bob = 0;
  EXPECT_TRUE(nicks.claim("Alice", &alice));
  EXPECT_FALSE(nicks.claim("ALICE", &bob));
  EXPECT_EQ(nicks.owner("aLiCe"), &alice);
  EXPECT_TRUE(nicks.claim("bob"));  // claimed before its holder exists
  EXPECT_EQ(nicks.owner("Bob"), nullptr);
  nicks.set_owner("BOB", &bob);
  EXPECT_EQ(nicks.owner("bob"), &bob);
  nicks.release("alice");
  EXPECT_EQ(nicks.owner("Alice"), nullptr);
  nicks.set_owner("alice", &alice);  // not claimed: nothing to point at
  EXPECT_FALSE(nicks.taken("alice"));
}

TEST(nick_registry, reserve_says_whether_the_nick_is_new) {
  nick_registry nicks;
  EXPECT_TRUE(nicks.reserve("Alice"));
  EXPECT_FALSE(nicks.reserve("alice"));
  EXPECT_TRUE(nicks.reserved("ALICE"));
}

TEST(nick_registry, guests_count_up_from_one) {
  nick_registry nicks;
  EXPECT_EQ(nicks.claim_guest(), "guest-1");
  EXPECT_EQ(nicks.claim_guest(), "guest-2");
  EXPECT_EQ(nicks.claim_guest(), "guest-3");
}

TEST(nick_registry, the_lowest_free_guest_number_is_given_again) {
  nick_registry nicks;
  for (int i = 0; i < 5; ++i) nicks.claim_guest();
  nicks.release("guest-4");
  nicks.release("guest-2");
  EXPECT_EQ(nicks.claim_guest(), "guest-2");
  EXPECT_EQ(nicks.claim_guest(), "guest-4");
  EXPECT_EQ(nicks.claim_guest(), "guest-6");
}

TEST(nick_registry, a_guest_name_taken_with_nick_is_skipped_and_freed_later) {
  nick_registry nicks;
  EXPECT_TRUE(nicks.claim("Guest-2"));  // someone typed /nick Guest-2
  EXPECT_EQ(nicks.claim_guest(), "guest-1");
  EXPECT_EQ(nicks.claim_guest(), "guest-3");
  nicks.release("guest-1");
  EXPECT_TRUE(nicks.claim("guest-1"));  // taken again by hand before a guest came
  EXPECT_EQ(nicks.claim_guest(), "guest-4");
  nicks.release("GUEST-2");
  nicks.release("guest-1");
  EXPECT_EQ(nicks.claim_guest(), "guest-1");
  EXPECT_EQ(nicks.claim_guest(), "guest-2");
}

TEST(nick_registry, names_that_only_look_like_guests_are_not_numbers) {
  nick_registry nicks;
  nicks.claim_guest();                   // guest-1
  EXPECT_TRUE(nicks.claim("guest-01"));  // not guest-1
  EXPECT_TRUE(nicks.claim("guest-x"));
  EXPECT_TRUE(nicks.claim("guest-999999999999999999"));
  nicks.release("guest-01");
  nicks.release("guest-x");
  nicks.release("guest-999999999999999999");
  EXPECT_EQ(nicks.claim_guest(), "guest-2");
}

TEST(nick_registry, churn_keeps_numbers_small) {
  nick_registry nicks;
  for (int i = 0; i < 10000; ++i) {
    const std::string a = nicks.claim_guest();
    const std::string b = nicks.claim_guest();
    nicks.release(a);
    nicks.release(b);
  }
  EXPECT_EQ(nicks.claim_guest(), "guest-1");
  EXPECT_EQ(nicks.claim_guest(), "guest-2");
  EXPECT_EQ(nicks.claim_guest(), "guest-3");
}

}  // namespace
}  // namespace chatgate
