#include "gateway/transport/udp_budget.hpp"

#include <asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "gateway/transport/datagram_memory.hpp"
#include "gateway/transport/keyed_hash.hpp"

namespace chatgate {
namespace {

using namespace std::chrono_literals;
const auto t0 = udp_budget::clock::time_point{} + 1h;
const auto a = asio::ip::make_address("192.0.2.1");
const auto b = asio::ip::make_address("192.0.2.2");

TEST(UdpBudget, StartsAt256BytesAndEarnsThreeTimesWhatArrives) {
  udp_budget budget(16);
  EXPECT_TRUE(budget.spend(a, 256, t0));
  EXPECT_FALSE(budget.spend(a, 1, t0));
  budget.received(a, 10, t0);
  EXPECT_TRUE(budget.spend(a, 30, t0));
  EXPECT_FALSE(budget.spend(a, 1, t0));
  EXPECT_TRUE(budget.spend(b, 200, t0));  // another address, its own budget
}

TEST(UdpBudget, RefillsAMinutesAllowanceWithoutBankingIt) {
  udp_budget budget(16);
  EXPECT_TRUE(budget.spend(a, 256, t0));
  EXPECT_FALSE(budget.spend(a, 129, t0 + 30s));
  EXPECT_TRUE(budget.spend(a, 128, t0 + 30s));
  EXPECT_FALSE(budget.spend(a, 257, t0 + 1h));
  EXPECT_TRUE(budget.spend(a, 256, t0 + 1h));
}

TEST(UdpBudget, V4MappedIsTheSameAddress) {
  udp_budget budget(16);
  EXPECT_TRUE(budget.spend(a, 256, t0));
  EXPECT_FALSE(budget.spend(asio::ip::make_address("::ffff:192.0.2.1"), 1, t0));
}

TEST(UdpBudget, RemembersAtMostItsCap) {
  udp_budget budget(4);
  for (int i = 0; i < 100; ++i) budget.received(asio::ip::make_address_v4(0x0a000000u + i), 1, t0);
  EXPECT_EQ(budget.sources(), 4u);
  budget.sweep(t0 + 2min);
  EXPECT_EQ(budget.sources(), 0u);
}

TEST(DatagramMemory, CountsOverOneToTwoPeriodsAndStopsWhenFull) {
  datagram_memory m(2, 1s);
  EXPECT_TRUE(m.record(1, t0));
  EXPECT_TRUE(m.record(1, t0));
  EXPECT_TRUE(m.record(2, t0));
  EXPECT_FALSE(m.record(3, t0));  // full this period
  EXPECT_EQ(m.count(1, t0 + 1500ms), 2u);  // the previous period still counts
  EXPECT_EQ(m.count(1, t0 + 2600ms), 0u);
}

TEST(KeyedHash, DependsOnKeyAddressAndData) {
  keyed_hash h1, h2;
  const asio::ip::udp::endpoint e1(a, 1000), e2(a, 1001);
  EXPECT_EQ(h1("x"), h1("x"));
  EXPECT_NE(h1("x"), h2("x"));
  EXPECT_NE(h1(e1, "x"), h1(e2, "x"));
  EXPECT_NE(h1(e1, "x"), h1(e1, "y"));
}

}  // namespace
}  // namespace chatgate
