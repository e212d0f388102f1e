#include "protocol/telnet.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatgate::protocol {
namespace {

// Data and replies of one stream, fed in pieces of `chunk` bytes.
struct decoded {
  std::string data;
  std::string replies;
  std::string order;  // 'd' and 'r' in the order the callbacks came
};

decoded decode(telnet_decoder& t, std::string_view bytes, std::size_t chunk = SIZE_MAX) {
  decoded out;
  while (!bytes.empty()) {
    const std::string_view piece = bytes.substr(0, chunk);
    bytes.remove_prefix(piece.size());
    t.feed(
        piece,
        [&](std::string_view d) {
          out.data.append(d);
          out.order += 'd';
          return true;
        },
        [&](std::string_view r) {
          out.replies.append(r);
          out.order += 'r';
        });
  }
  return out;
}

decoded decode(std::string_view bytes, std::size_t chunk = SIZE_MAX) {
  telnet_decoder t;
  return decode(t, bytes, chunk);
}

const std::string IAC = "\xff", DONT = "\xfe", DO = "\xfd", WONT = "\xfc", WILL = "\xfb",
                  SB = "\xfa", SE = "\xf0", IP = "\xf4", AO = "\xf5", BRK = "\xf3", AYT = "\xf6",
                  NOP = "\xf1", DM = "\xf2", EC = "\xf7", EL = "\xf8", GA = "\xf9", TM = "\x06";

TEST(Telnet, PlainBytesPassThrough) {
  const std::string text = "hello\r\nh\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93\n{\"type\":\"rooms\"}\n";
  const decoded d = decode(text);
  EXPECT_EQ(d.data, text);
  EXPECT_EQ(d.replies, "");
}

TEST(Telnet, CtrlCIsAnsweredWithTimingMarkAndNoText) {
  // What Debian's telnet sends for Ctrl-C.
  const decoded d = decode("before\r\n" + IAC + IP + IAC + DO + TM + "after\r\n");
  EXPECT_EQ(d.data, "before\r\nafter\r\n");
  EXPECT_EQ(d.replies, IAC + WILL + TM);
  // The answer comes between the data before and after it.
  EXPECT_EQ(d.order, "drd");
}

TEST(Telnet, OptionRequestsAreRefused) {
  EXPECT_EQ(decode(IAC + WILL + "\x18").replies, IAC + DONT + "\x18");   // terminal type
  EXPECT_EQ(decode(IAC + DO + "\x01").replies, IAC + WONT + "\x01");     // echo
  EXPECT_EQ(decode(IAC + DO + "\x03").replies, IAC + WONT + "\x03");     // suppress go-ahead
  EXPECT_EQ(decode(IAC + WILL + TM).replies, IAC + DONT + TM);
  // Refusals and acknowledgements are never answered: no loops.
  const decoded quiet = decode(IAC + WONT + "\x01" + IAC + DONT + "\x01" + IAC + DONT + TM + "x");
  EXPECT_EQ(quiet.replies, "");
  EXPECT_EQ(quiet.data, "x");
}

TEST(Telnet, IacIacIsALiteralByte) {
  const decoded d = decode("a" + IAC + IAC + "b");
  EXPECT_EQ(d.data, "a\xff" "b");
  EXPECT_EQ(d.replies, "");
}

TEST(Telnet, OtherCommandsDoNothing) {
  for (const std::string& cmd : {IP, AO, BRK, AYT, NOP, DM, EC, EL, GA, SE}) {
    const decoded d = decode("a" + IAC + cmd + "b\n");
    EXPECT_EQ(d.data, "ab\n") << int(static_cast<unsigned char>(cmd[0]));
    EXPECT_EQ(d.replies, "");
  }
}

TEST(Telnet, IacBeforeANonCommandIsData) {
  // A stray 0xFF (later repaired as invalid UTF-8), and the newline after
  // it still ends the line.
  EXPECT_EQ(decode("a" + IAC + "\nb").data, "a\xff\nb");
  EXPECT_EQ(decode("x" + IAC + " ok", 1).data, "x\xff ok");
}

TEST(Telnet, SubnegotiationIsSkipped) {
  const decoded d = decode("a" + IAC + SB + "\x18\x00xterm" + IAC + IAC + "z" + IAC + SE + "b");
  EXPECT_EQ(d.data, "ab");
  EXPECT_EQ(d.replies, "");
}

TEST(Telnet, SubnegotiationEndsAtAnotherCommand) {
  const decoded d = decode("a" + IAC + SB + "\x1f" + IAC + DO + TM + "b");
  EXPECT_EQ(d.data, "ab");
  EXPECT_EQ(d.replies, IAC + WILL + TM);
}

TEST(Telnet, SubnegotiationIsCapped) {
  // Without IAC SE, data comes back after max_subnegotiation bytes.
  const std::string body(telnet::max_subnegotiation, 'x');
  const decoded d = decode(IAC + SB + body + "visible");
  EXPECT_EQ(d.data, "visible");
  const decoded escaped = decode(IAC + SB + std::string(2 * telnet::max_subnegotiation, '\xff') + "v");
  EXPECT_EQ(escaped.data, "v");
}

TEST(Telnet, SequencesSplitAcrossReads) {
  const std::string stream = "l1\r\n" + IAC + IP + IAC + DO + TM + "h\xc3\xa9" + IAC + IAC + IAC + WILL +
                             "\x18" + IAC + SB + "\x18\x01" + IAC + SE + "llo\r\n";
  const decoded whole = decode(stream);
  EXPECT_EQ(whole.data, "l1\r\nh\xc3\xa9\xffllo\r\n");
  EXPECT_EQ(whole.replies, IAC + WILL + TM + IAC + DONT + "\x18");
  for (std::size_t chunk = 1; chunk < stream.size(); ++chunk) {
    const decoded split = decode(stream, chunk);
    EXPECT_EQ(split.data, whole.data) << chunk;
    EXPECT_EQ(split.replies, whole.replies) << chunk;
  }
}

TEST(Telnet, StateIsKeptBetweenCalls) {
  telnet_decoder t;
  EXPECT_EQ(decode(t, "x" + IAC).data, "x");
  EXPECT_TRUE(t.in_command());
  EXPECT_EQ(decode(t, DO).data, "");
  EXPECT_EQ(decode(t, TM + "y").replies, IAC + WILL + TM);
  EXPECT_FALSE(t.in_command());
}

TEST(Telnet, ContinuationBytesTelnetTookForKeys) {
  // Captured from Debian's telnet typing "héllo wörld ✓": the 0x9C of
  // U+2713 went out as IAC BRK IAC DO TIMING-MARK.
  const decoded check = decode("h\xc3\xa9llo w\xc3\xb6rld \xe2" + IAC + BRK + IAC + DO + TM + "\x93\r\n");
  EXPECT_EQ(check.data, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93\r\n");
  EXPECT_EQ(check.replies, IAC + WILL + TM);
  // U+00C3 (C3 83, ^C), U+00CF (C3 8F, ^O), U+00DA (C3 9A, ^Z), U+00DC (C3 9C, ^\).
  const std::string ABORT = "\xee", SUSP = "\xed";
  const decoded latin = decode("\xc3" + IAC + IP + IAC + DO + TM + "\xc3" + IAC + AO + IAC + DO + TM + "\xc3" +
                               IAC + SUSP + IAC + DO + TM + "\xc3" + IAC + ABORT + IAC + DO + TM + "!");
  EXPECT_EQ(latin.data, "\xc3\x83\xc3\x8f\xc3\x9a\xc3\x9c!");
  EXPECT_EQ(latin.replies, IAC + WILL + TM + IAC + WILL + TM + IAC + WILL + TM + IAC + WILL + TM);
  // A 4-byte character with the key in third place, split across reads.
  const std::string emoji = "\xf0\x9f" + IAC + BRK + IAC + DO + TM + "\x80";
  for (std::size_t chunk = 1; chunk <= emoji.size(); ++chunk)
    EXPECT_EQ(decode(emoji, chunk).data, "\xf0\x9f\x9c\x80") << chunk;
  // Outside a character the same commands are keys, and give no data.
  EXPECT_EQ(decode("a" + IAC + IP + IAC + DO + TM).data, "a");
  EXPECT_EQ(decode("\xc3\xa9" + IAC + BRK).data, "\xc3\xa9");
  EXPECT_EQ(decode("\xc3" + IAC + NOP + IAC + AYT).data, "\xc3");
  EXPECT_EQ(decode(std::string("\xe2\x9c\x93xyzw") + IAC + IP).data, "\xe2\x9c\x93xyzw");
}

TEST(Telnet, StoppingDropsTheRest) {
  telnet_decoder t;
  std::string seen;
  t.feed(
      "a" + IAC + NOP + "b" + IAC + DO + TM,
      [&](std::string_view d) {
        seen.append(d);
        return false;
      },
      [&](std::string_view) { ADD_FAILURE() << "no reply after a stop"; });
  EXPECT_EQ(seen, "a");
}

}  // namespace
}  // namespace chatgate::protocol
