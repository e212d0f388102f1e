#include "protocol/line_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chatgate::protocol {
namespace {

struct collected {
  std::vector<std::string> lines;
  int too_long = 0;
};

void feed(line_framer& f, std::string_view bytes, collected& out) {
  f.feed(
      bytes,
      [&](std::string_view line) {
        out.lines.emplace_back(line);
        return true;
      },
      [&] {
        ++out.too_long;
        return true;
      });
}

TEST(LineFramer, SplitsLinesAndDropsCarriageReturn) {
  line_framer f(100);
  collected out;
  feed(f, "one\ntwo\r\nthr", out);
  feed(f, "ee\n", out);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_FALSE(f.has_partial());
}

TEST(LineFramer, FlushDeliversAPartialLine) {
  line_framer f(100);
  collected out;
  feed(f, "Hello, world", out);
  EXPECT_TRUE(out.lines.empty());
  EXPECT_TRUE(f.has_partial());
  f.flush([&](std::string_view line) {
    out.lines.emplace_back(line);
    return true;
  });
  EXPECT_EQ(out.lines, (std::vector<std::string>{"Hello, world"}));
  EXPECT_FALSE(f.has_partial());
}

TEST(LineFramer, ExactlyAtTheCapPasses) {
  line_framer f(5);
  collected out;
  feed(f, "12345\n12345\r\n", out);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"12345", "12345"}));
  EXPECT_EQ(out.too_long, 0);
}

TEST(LineFramer, OneOverTheCapIsReportedOnceAndSkipped) {
  line_framer f(5);
  collected out;
  feed(f, "123456\nok\n", out);
  EXPECT_EQ(out.too_long, 1);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"ok"}));
}

TEST(LineFramer, LongLineWithoutNewlineIsDiscardedWithoutBuffering) {
  line_framer f(10);
  collected out;
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 32; ++i) feed(f, chunk, out);  // 2 MiB, no newline
  EXPECT_EQ(out.too_long, 1);
  EXPECT_LE(f.buffered(), 10u);
  feed(f, "still x\nnext\n", out);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"next"}));
}

TEST(LineFramer, FlushEndsADiscardedLine) {
  line_framer f(4);
  collected out;
  feed(f, "toolongline", out);
  f.flush([&](std::string_view line) {
    out.lines.emplace_back(line);
    return true;
  });
  feed(f, "ok\n", out);
  EXPECT_EQ(out.too_long, 1);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"ok"}));
}

TEST(LineFramer, AcrossManySmallFeeds) {
  line_framer f(100);
  collected out;
  for (char c : std::string("ab\ncd\n")) feed(f, std::string_view(&c, 1), out);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"ab", "cd"}));
}

TEST(LineFramer, StopsWhenTheCallbackSaysSo) {
  line_framer f(100);
  std::vector<std::string> lines;
  f.feed(
      "a\nb\nc\n",
      [&](std::string_view line) {
        lines.emplace_back(line);
        return false;
      },
      [] { return true; });
  EXPECT_EQ(lines, (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace chatgate::protocol
