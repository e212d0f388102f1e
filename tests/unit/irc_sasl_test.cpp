// SASL PLAIN over IRC: the examples of the IRCv3 sasl-3.1 specification
// and RFC 4616, chunking at 400 bytes, and what is refused.
#include <gtest/gtest.h>

#include <string>

#include "protocol/irc_sasl.hpp"

using namespace chatgate::protocol;

TEST(IrcSasl, SpecificationExample) {
  // IRCv3 sasl-3.1: "AUTHENTICATE amlsbGVzAGppbGxlcwBzZXNhbWU=" is
  // jilles / jilles / sesame.
  sasl_reader r;
  ASSERT_EQ(r.feed("amlsbGVzAGppbGxlcwBzZXNhbWU="), sasl_step::done);
  auto p = decode_sasl_plain(r.payload());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->authzid, "jilles");
  EXPECT_EQ(p->authcid, "jilles");
  EXPECT_EQ(p->password, "sesame");
}

TEST(IrcSasl, EmptyAuthzidAndPadding) {
  // RFC 4616: "\0tim\0tanstaaftanstaaf".
  auto p = decode_sasl_plain("AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->authzid, "");
  EXPECT_EQ(p->authcid, "tim");
  EXPECT_EQ(p->password, "tanstaaftanstaaf");
  // One and two padding characters: "\0a\0b" and "\0ab\0c".
  EXPECT_TRUE(decode_sasl_plain("AGEAYg=="));
  EXPECT_TRUE(decode_sasl_plain("AGFiAGM="));
  EXPECT_EQ(decode_sasl_plain("AGFiAGM=")->password, "c");
}

TEST(IrcSasl, RefusesWhatIsNotPlain) {
  EXPECT_FALSE(decode_sasl_plain(""));
  EXPECT_FALSE(decode_sasl_plain("not base64!"));
  EXPECT_FALSE(decode_sasl_plain("AGEAYg"));     // padding missing
  EXPECT_FALSE(decode_sasl_plain("AGE_AGI="));   // base64url letters
  EXPECT_FALSE(decode_sasl_plain("YWJj"));       // "abc": no NULs
  EXPECT_FALSE(decode_sasl_plain("AGEA"));       // "\0a\0": no password
  EXPECT_FALSE(decode_sasl_plain("AGEAYgBj"));   // "\0a\0b\0c": four fields
}

TEST(IrcSasl, ChunksOf400BytesEndWithAShorterOneOrAPlus) {
  sasl_reader r;
  const std::string full(400, 'A');
  EXPECT_EQ(r.feed(full), sasl_step::more);
  EXPECT_EQ(r.feed("AAAA"), sasl_step::done);
  EXPECT_EQ(r.payload().size(), 404u);
  r.reset();
  EXPECT_EQ(r.feed(full), sasl_step::more);
  EXPECT_EQ(r.feed("+"), sasl_step::done);
  EXPECT_EQ(r.payload(), full);
}

TEST(IrcSasl, LimitsAndAbort) {
  sasl_reader r;
  EXPECT_EQ(r.feed(std::string(401, 'A')), sasl_step::chunk_too_long);
  EXPECT_EQ(r.feed(std::string(400, 'A')), sasl_step::more);
  EXPECT_EQ(r.feed("*"), sasl_step::aborted);
  EXPECT_TRUE(r.payload().empty());
  sasl_step last = sasl_step::more;
  int chunks = 0;
  while (last == sasl_step::more) {
    last = r.feed(std::string(400, 'A'));
    ++chunks;
  }
  EXPECT_EQ(last, sasl_step::too_long);
  EXPECT_EQ(chunks, int(sasl_max_payload / 400) + 1);
  EXPECT_TRUE(r.payload().empty());
}
