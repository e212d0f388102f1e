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

TEST(ProxyHeader, RejectsWhatTheIssueFound) {
  EXPECT_EQ(parse_proxy_v1("PROXY TCP4 999.1.1.1 127.0.0.1 40000 7000"), std::nullopt);
  EXPECT_EQ(parse_proxy_v1("PROXY TCP4 198.51.100.7 127.0.0.1 99999 7000"), std::nullopt);
  EXPECT_EQ(parse_proxy_v1("PROXY TCP4 198.51.100.7 127.0.0.1 40000 65536"), std::nullopt);
  EXPECT_EQ(parse_proxy_v1("PROXY TCP4 198.51.100.7 127.0.0.1 65535 0"), "198.51.100.7:65535");
  // Addresses of the other family, signs, spaces, an empty line (the start
  // of a v2 binary header, "\r\n\r\n\0\r\nQUIT\n").
  for (const char* bad : {"PROXY TCP4 ::1 ::1 1 2", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2",
                          "PROXY TCP4  1.2.3.4 5.6.7.8 1 2", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2", "",
                          "proxy TCP4 1.2.3.4 5.6.7.8 1 2"})
    EXPECT_EQ(parse_proxy_v1(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_proxy_v1(std::string_view("\r\n\r\n\0\r\nQUIT", 11)), std::nullopt);
  // Found by the fuzzer: inet_pton stops at a NUL.
  EXPECT_EQ(parse_proxy_v1(std::string_view("PROXY TCP4 1.2.3.4\0x 5.6.7.8 1 2", 32)), std::nullopt);
  EXPECT_EQ(parse_forwarded_for(std::string_view("::\0[;", 5)), std::nullopt);
}

TEST(ProxyHeader, LengthCap) {
  // 107 bytes with the CRLF the framer took off: 105 here.
  const std::string v6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535";
  ASSERT_EQ(v6.size(), 102u);  // the longest valid TCP6 header
  EXPECT_TRUE(parse_proxy_v1(v6));
  EXPECT_EQ(parse_proxy_v1("PROXY UNKNOWN " + std::string(91, 'x')), "unknown");
  EXPECT_EQ(parse_proxy_v1("PROXY UNKNOWN " + std::string(92, 'x')), std::nullopt);
}

TEST(ForwardedFor, TakesTheLastEntryWhenItIsAnAddress) {
  EXPECT_EQ(parse_forwarded_for("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(parse_forwarded_for("10.9.9.9, 203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(parse_forwarded_for(" 2001:db8::7 "), "2001:db8::7");
  EXPECT_EQ(parse_forwarded_for("garbage, \t198.51.100.1\t"), "198.51.100.1");
}

TEST(ForwardedFor, IgnoresAnythingElse) {
  for (const char* bad : {"", " ", "unknown", "203.0.113.9, evil", "999.1.1.1", "1.2.3.4:80",
                          "[2001:db8::7]", "\x1b[31mred", "1.2.3.4\r\nX-Injected: 1", "203.0.113.9,",
                          "localhost", "1.2.3.4 5.6.7.8"})
    EXPECT_EQ(parse_forwarded_for(bad), std::nullopt) << bad;
}

TEST(EscapeForLog, NonPrintableBytesAreHex) {
  EXPECT_EQ(escape_for_log("plain 1.2.3.4"), "plain 1.2.3.4");
  EXPECT_EQ(escape_for_log("\x1b[31mred\r\n\\\xff\x7f"), "\\x1b[31mred\\x0d\\x0a\\x5c\\xff\\x7f");
  EXPECT_EQ(escape_for_log(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_for_log(std::string(200, 'a'), 10), "aaaaaaaaaa...");
}

}  // namespace
}  // namespace chatgate::protocol
