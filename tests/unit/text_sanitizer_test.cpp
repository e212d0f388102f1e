#include "protocol/text_sanitizer.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

const std::string fffd = "\xEF\xBF\xBD";

TEST(TextSanitizer, KeepsValidUtf8) {
  const std::string text = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 tab\there";
  EXPECT_EQ(sanitize_text(text), text);
}

TEST(TextSanitizer, ReplacesEachInvalidSubsequenceOnce) {
  EXPECT_EQ(sanitize_text("a\xFF" "b"), "a" + fffd + "b");
  EXPECT_EQ(sanitize_text("\xFF\xFE"), fffd + fffd);
  // A truncated 3-byte sequence is one maximal subpart.
  EXPECT_EQ(sanitize_text("x\xE2\x82"), "x" + fffd);
  EXPECT_EQ(sanitize_text("\xE2\x82" "A"), fffd + "A");
}

TEST(TextSanitizer, RejectsOverlongsSurrogatesAndTooLarge) {
  EXPECT_EQ(sanitize_text("\xC0\xAF"), fffd + fffd);              // overlong '/'
  EXPECT_EQ(sanitize_text("\xE0\x80\xAF"), fffd + fffd + fffd);   // overlong
  EXPECT_EQ(sanitize_text("\xED\xA0\x80"), fffd + fffd + fffd);   // surrogate D800
  EXPECT_EQ(sanitize_text("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // > U+10FFFF
}

TEST(TextSanitizer, RemovesControlCharactersButTab) {
  EXPECT_EQ(sanitize_text("a\nb\rc\x1b[31md\x7f" "e\tf"), "abc[31mde\tf");
  EXPECT_EQ(sanitize_text(std::string("nul\0byte", 8)), "nulbyte");
  EXPECT_EQ(sanitize_text("c1\xC2\x85x"), "c1x");  // U+0085 NEXT LINE
  EXPECT_EQ(sanitize_text("nbsp\xC2\xA0x"), "nbsp\xC2\xA0x");
}

TEST(TextSanitizer, OutputIsAlwaysOneValidLine) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string out = sanitize_text(all + all);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(sanitize_text(out), out);  // idempotent: already clean
}

// valid_utf8 says yes exactly when sanitize_text would keep every byte
// of a text without control characters.
TEST(TextSanitizer, ValidUtf8IsWhatTheSanitizerKeeps) {
  for (const char* ok : {"", "plain", "h\xC3\xA9llo", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"})
    EXPECT_TRUE(valid_utf8(ok)) << ok;
  for (const char* bad : {"\xFF", "cut \xC3", "\xC0\xAF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xF0\x9F\x98", "\x80"})
    EXPECT_FALSE(valid_utf8(bad)) << bad;
  std::string all;
  for (int i = 0x20; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(valid_utf8(all), sanitize_text(all) == all);
}

}  // namespace
}  // namespace chatgate::protocol
