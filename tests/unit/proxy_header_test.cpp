#include "protocol/proxy_header.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

TEST(ProxyHeader, ReadsTheClientAddress) {
  EXPECT_EQ(parse_proxy_v1("PROXY TCP4 203.0.113.7 10.0.0.1 51234 7000"), "203.0.113.7:51234");
  EXPECT_EQ(parse_proxy_v1("PROXY TCP6 2001:db8::1 ::1 4000 7000"), "[2001:db8::1]:4000");
  EXPECT_EQ(parse_proxy_v1("PROXY UNKNOWN"), "unknown");
}

TEST(ProxyHeader, RejectsAnythingElse) {
  for (const char* bad : {"hello", "PROXY", "PROXY TCP4 1.2.3.4 5.6.7.8 1", "PROXY TCP4 a.b.c.d 1.1.1.1 1 2",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 70000 1", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 extra", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2",
                          "PROXY TCP6 0fffffffffffffffffffffffffffffffffffffff : 6 0"})
    EXPECT_EQ(parse_proxy_v1(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace chatgate::protocol
