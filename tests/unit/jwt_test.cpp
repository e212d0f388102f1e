#include "protocol/jwt.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

constexpr std::int64_t now = 1700000000;
const std::string secret = "s3cret";

std::string make(const std::string& header, const std::string& claims, const std::string& key = secret) {
  const std::string signing = base64url_encode(header) + "." + base64url_encode(claims);
  return signing + "." + base64url_encode(hmac_sha256(key, signing));
}
const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";

TEST(Base64url, RoundTripsWithoutPadding) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    const auto enc = base64url_encode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(base64url_decode(enc), s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, RefusesPaddingAndForeignCharacters) {
  EXPECT_FALSE(base64url_decode("Zm8="));
  EXPECT_FALSE(base64url_decode("Zm+v"));
  EXPECT_FALSE(base64url_decode("Zm/v"));
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_FALSE(base64url_decode("Zh"));  // non-zero left-over bits
}

TEST(Jwt, KnownVectorFromRfc7515StyleSigning) {
  // HMAC-SHA256 test vector (RFC 4231 case 2).
  EXPECT_EQ(base64url_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            base64url_encode(std::string("\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7"
                                         "\x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43",
                                         32)));
}

TEST(Jwt, AcceptsAGoodToken) {
  const auto r = verify_token(make(hs256, R"({"sub":"alice","exp":1700000100})"), secret, now);
  ASSERT_TRUE(r.claims) << r.reason;
  EXPECT_EQ(r.claims->sub, "alice");
  EXPECT_EQ(r.claims->exp, 1700000100);
}

TEST(Jwt, TokenWithoutExpNeverExpires) {
  EXPECT_TRUE(verify_token(make(hs256, R"({"sub":"bob"})"), secret, now).claims);
}

TEST(Jwt, ExpAndNbfWithSkew) {
  EXPECT_TRUE(verify_token(make(hs256, R"({"sub":"a","exp":1699999990})"), secret, now).claims);
  EXPECT_EQ(verify_token(make(hs256, R"({"sub":"a","exp":1699999970})"), secret, now).reason, "expired");
  EXPECT_TRUE(verify_token(make(hs256, R"({"sub":"a","nbf":1700000020})"), secret, now).claims);
  EXPECT_EQ(verify_token(make(hs256, R"({"sub":"a","nbf":1700000031})"), secret, now).reason,
            "not valid yet");
  EXPECT_TRUE(verify_token(make(hs256, R"({"sub":"a","exp":1700000100.5})"), secret, now).claims);
  EXPECT_FALSE(verify_token(make(hs256, R"({"sub":"a","exp":"soon"})"), secret, now).claims);
}

TEST(Jwt, RefusesForgedSignature) {
  EXPECT_EQ(verify_token(make(hs256, R"({"sub":"alice"})", "other"), secret, now).reason, "bad signature");
  std::string t = make(hs256, R"({"sub":"alice"})");
  t.back() = t.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_token(t, secret, now).claims);
  // Claims swapped after signing.
  const auto good = make(hs256, R"({"sub":"alice"})");
  const auto dot = good.rfind('.');
  const std::string swapped = base64url_encode(hs256) + "." + base64url_encode(R"({"sub":"mallory"})") +
                              good.substr(dot);
  EXPECT_EQ(verify_token(swapped, secret, now).reason, "bad signature");
}

TEST(Jwt, RefusesOtherAlgorithms) {
  const std::string none = base64url_encode(R"({"alg":"none"})") + "." +
                           base64url_encode(R"({"sub":"alice"})") + ".";
  EXPECT_FALSE(verify_token(none, secret, now).claims);
  EXPECT_NE(verify_token(none, secret, now).reason.find("not accepted"), std::string::npos);
  // Signed with HS256 but labelled otherwise.
  EXPECT_FALSE(verify_token(make(R"({"alg":"HS512"})", R"({"sub":"alice"})"), secret, now).claims);
  EXPECT_FALSE(verify_token(make(R"({"alg":"hs256"})", R"({"sub":"alice"})"), secret, now).claims);
  EXPECT_FALSE(verify_token(make(R"({"typ":"JWT"})", R"({"sub":"alice"})"), secret, now).claims);
}

TEST(Jwt, RefusesMalformedTokens) {
  for (std::string t : {"", "abc", "a.b", "a.b.c.d", "...", "e30.e30.", "!!.e30.x"})
    EXPECT_FALSE(verify_token(t, secret, now).claims) << t;
  EXPECT_FALSE(verify_token(make(hs256, R"(["sub"])"), secret, now).claims);
  EXPECT_FALSE(verify_token(make(hs256, R"({"sub":42})"), secret, now).claims);
  EXPECT_EQ(verify_token(make(hs256, R"({"sub":"has space"})"), secret, now).reason,
            "sub is not a valid nick");
  EXPECT_EQ(verify_token(std::string(5000, 'a'), secret, now).reason, "token too long");
}

}  // namespace
}  // namespace chatgate::protocol
