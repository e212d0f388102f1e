// The IRC codec against the examples of modern.ircdocs.horse and the IRCv3
// message-tags specification, and the IRC encoding of chatgate's events.
#include <gtest/gtest.h>

#include "protocol/irc_encode.hpp"
#include "protocol/irc_message.hpp"

using namespace chatgate::protocol;

namespace {

irc_message parsed(std::string_view line) {
  irc_parse_result r = parse_irc(line);
  EXPECT_EQ(r.status, irc_parse_status::ok) << line;
  return r.message;
}

}  // namespace

TEST(IrcMessage, ModernDocsExamples) {
  // modern.ircdocs.horse, "Messages" section.
  irc_message m = parsed(":irc.example.com CAP LS * :multi-prefix extended-join sasl");
  EXPECT_EQ(m.source, "irc.example.com");
  EXPECT_EQ(m.command, "CAP");
  EXPECT_EQ(m.params, (std::vector<std::string>{"LS", "*", "multi-prefix extended-join sasl"}));

  m = parsed("@id=234AB :dan!d@localhost PRIVMSG #chan :Hey what's up!");
  ASSERT_EQ(m.tags.size(), 1u);
  EXPECT_EQ(*m.tag("id"), "234AB");
  EXPECT_EQ(m.source, "dan!d@localhost");
  EXPECT_EQ(m.params, (std::vector<std::string>{"#chan", "Hey what's up!"}));

  m = parsed("CAP REQ :sasl");
  EXPECT_TRUE(m.source.empty());
  EXPECT_EQ(m.params, (std::vector<std::string>{"REQ", "sasl"}));

  // Trailing and middle params are the same thing.
  EXPECT_EQ(parsed(":dan!d@localhost PRIVMSG #chan Hey!").params,
            parsed(":dan!d@localhost PRIVMSG #chan :Hey!").params);
  // An empty trailing is a param; a trailing may hold ':' and spaces.
  EXPECT_EQ(parsed("PRIVMSG #chan :").params, (std::vector<std::string>{"#chan", ""}));
  EXPECT_EQ(parsed("PRIVMSG #chan ::-) a  b").params, (std::vector<std::string>{"#chan", ":-) a  b"}));
  // Commands are case-insensitive; numerics stay numerics.
  EXPECT_EQ(parsed("privmsg #c x").command, "PRIVMSG");
  EXPECT_EQ(parsed(":srv 001 nick :Welcome").command, "001");
  // Repeated spaces separate like one.
  EXPECT_EQ(parsed("NICK    alice   ").params, (std::vector<std::string>{"alice"}));
  EXPECT_EQ(parsed("JOIN #a\r").params, (std::vector<std::string>{"#a"}));
}

TEST(IrcMessage, MessageTagsEscaping) {
  // IRCv3 message-tags examples.
  irc_message m = parsed("@aaa=bbb;ccc;example.com/ddd=eee :nick!ident@host.com PRIVMSG me :Hello");
  ASSERT_EQ(m.tags.size(), 3u);
  EXPECT_EQ(*m.tag("aaa"), "bbb");
  EXPECT_EQ(*m.tag("ccc"), "");
  EXPECT_EQ(*m.tag("example.com/ddd"), "eee");
  m = parsed("@+example=raw+:=,escaped\\:\\s\\\\ :irc.example.com NOTICE #channel :Message");
  EXPECT_EQ(*m.tag("+example"), "raw+:=,escaped; \\");
  EXPECT_EQ(unescape_tag_value("a\\nb\\rc\\"), "a\nb\rc");  // lone trailing '\' dropped
  EXPECT_EQ(unescape_tag_value("\\b"), "b");                  // unknown escape: the char
  EXPECT_EQ(escape_tag_value("; \\\r\n"), "\\:\\s\\\\\\r\\n");
  EXPECT_EQ(unescape_tag_value(escape_tag_value("x; y\\z\r\n")), "x; y\\z\r\n");
  // A repeated key: the last wins.
  EXPECT_EQ(*parsed("@a=1;a=2 PING x").tag("a"), "2");
}

TEST(IrcMessage, Limits) {
  // 510 bytes of body is the most (512 with CRLF).
  std::string body = "PRIVMSG #c :" + std::string(510 - 12, 'x');
  EXPECT_EQ(parse_irc(body).status, irc_parse_status::ok);
  EXPECT_EQ(parse_irc(body + "x").status, irc_parse_status::body_too_long);
  // Tags do not count toward the 512; 8191 bytes of them (with '@' and ' ').
  std::string tags = "@k=" + std::string(8191 - 5, 'v') + " ";
  ASSERT_EQ(tags.size(), 8191u - 1);
  EXPECT_EQ(parse_irc(tags + body).status, irc_parse_status::ok);
  EXPECT_EQ(parse_irc("@k=" + std::string(8191, 'v') + " " + body).status, irc_parse_status::tags_too_long);
  EXPECT_EQ(parse_irc("").status, irc_parse_status::empty);
  EXPECT_EQ(parse_irc("   ").status, irc_parse_status::empty);
  EXPECT_EQ(parse_irc(":onlysource").status, irc_parse_status::no_command);
  EXPECT_EQ(parse_irc("@a=b").status, irc_parse_status::no_command);
  // Found by the fuzzer: an empty source is malformed (the line is ignored).
  EXPECT_EQ(parse_irc(": :n!u G c").status, irc_parse_status::no_command);
}

TEST(IrcMessage, SerializeRoundTrip) {
  irc_message m{{{"time", "2026-12-01T00:00:00.000Z"}, {"x", "a b;c"}}, "alice!ws@chatgate", "PRIVMSG", {"#lobby", "hi there"}};
  const std::string line = serialize_irc(m);
  EXPECT_EQ(line, "@time=2026-12-01T00:00:00.000Z;x=a\\sb\\:c :alice!ws@chatgate PRIVMSG #lobby :hi there\r\n");
  irc_message back = parsed(line);
  EXPECT_EQ(back.tags, m.tags);
  EXPECT_EQ(back.params, m.params);
  EXPECT_EQ(serialize_irc({{}, {}, "PRIVMSG", {"#c", ":)"}}), "PRIVMSG #c ::)\r\n");
  EXPECT_EQ(serialize_irc({{}, {}, "TOPIC", {"#c", ""}}), "TOPIC #c :\r\n");
  EXPECT_EQ(serialize_irc({{}, {}, "PING", {"x"}}), "PING x\r\n");
}

TEST(IrcMessage, SplitUtf8KeepsSequences) {
  const std::string text = "a\xC3\xA9\xC3\xA9";  // a + two 2-byte letters
  auto pieces = split_utf8(text, 2);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0], "a");
  EXPECT_EQ(pieces[1], "\xC3\xA9");
  EXPECT_EQ(split_utf8("", 5).size(), 1u);
}

TEST(IrcEncode, ChatMessages) {
  chat_message m{"lobby", "alice", via::ws, "hello", 7, 1764547200123};
  auto sealed = std::make_shared<const sealed_message>(m);
  EXPECT_EQ(encode_irc(ev::message{sealed}, nullptr, false), ":alice!ws@chatgate PRIVMSG #lobby :hello\r\n");
  EXPECT_EQ(encode_irc(ev::message{sealed}, nullptr, true),
            "@time=2025-12-01T00:00:00.123Z :alice!ws@chatgate PRIVMSG #lobby :hello\r\n");
  chat_message action{"", "bob", via::tcp, "waves", 0, 0, true, "carol"};
  EXPECT_EQ(encode_irc(ev::message{std::make_shared<const sealed_message>(action)}, nullptr, false),
            ":bob!tcp@chatgate PRIVMSG carol :\x01" "ACTION waves\x01\r\n");
  // A 4096-byte chat message becomes several lines of at most 512.
  chat_message big{"lobby", "alice", via::ws, std::string(4096, 'y'), 1, 1};
  const std::string out = encode_irc(ev::message{std::make_shared<const sealed_message>(big)}, nullptr, false);
  std::size_t lines = 0, total = 0;
  for (std::size_t at = 0; at < out.size();) {
    const std::size_t end = out.find("\r\n", at);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - at, 512u);
    auto p = parsed(out.substr(at, end - at));
    total += p.params[1].size();
    ++lines;
    at = end + 2;
  }
  EXPECT_GT(lines, 8u);
  EXPECT_EQ(total, 4096u);
}

TEST(IrcEncode, AnswersUseTheRef) {
  ev::who who{"lobby", {{"alice", via::ws}, {"bob", via::irc}}};
  EXPECT_EQ(encode_irc(who, irc_ref("names", "bob", "#lobby"), false),
            ":chatgate 353 bob = #lobby :alice bob\r\n:chatgate 366 bob #lobby :End of /NAMES list\r\n");
  EXPECT_EQ(encode_irc(who, irc_ref("who", "bob", "#lobby"), false).substr(0, 52),
            ":chatgate 352 bob #lobby ws chatgate chatgate alice ");
  EXPECT_EQ(encode_irc(ev::error{error_code::nick_taken, "x"}, irc_ref("nick", "bob", "alice"), false),
            ":chatgate 433 bob alice :Nickname is already in use\r\n");
  EXPECT_EQ(encode_irc(ev::error{error_code::not_in_room, "x"}, irc_ref("say", "bob", "#x"), false),
            ":chatgate 442 bob #x :You're not on that channel\r\n");
  EXPECT_EQ(encode_irc(ev::error{error_code::rate_limited, "slow down"}, irc_ref("say", "bob", "#x"), false),
            ":chatgate NOTICE bob :rate_limited: slow down\r\n");
  ev::topic t{"lobby", "hi all", "alice", 1764547200000};
  EXPECT_EQ(encode_irc(t, irc_ref("topic", "bob", "#lobby"), false),
            ":chatgate 332 bob #lobby :hi all\r\n:chatgate 333 bob #lobby alice :1764547200\r\n");
  EXPECT_EQ(encode_irc(t, nullptr, false), ":alice TOPIC #lobby :hi all\r\n");
  EXPECT_EQ(encode_irc(ev::joined{"lobby", "alice", via::udp}, nullptr, false), ":alice!udp@chatgate JOIN #lobby\r\n");
  EXPECT_EQ(encode_irc(ev::left{"lobby", "alice", via::udp}, nullptr, false), ":alice!udp@chatgate PART #lobby\r\n");
  const std::string welcome = encode_irc(ev::welcome{"bob", {"lobby"}}, nullptr, false);
  EXPECT_NE(welcome.find(":chatgate 001 bob "), std::string::npos);
  EXPECT_NE(welcome.find("CHANTYPES=# NICKLEN=24 CHANNELLEN=33 CASEMAPPING=ascii"), std::string::npos);
  EXPECT_NE(welcome.find("A-Z a-z 0-9 _ -"), std::string::npos);
  EXPECT_NE(welcome.find(":bob!irc@chatgate JOIN #lobby\r\n"), std::string::npos);
}
