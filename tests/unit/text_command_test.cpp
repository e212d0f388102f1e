#include "protocol/text_command.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

template <class T>
const T& body_as(const std::optional<request>& r) {
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(std::holds_alternative<T>(r->body));
  return std::get<T>(r->body);
}

TEST(TextCommand, PlainLineIsAMessage) {
  const auto r = parse_text_line("hello there");
  EXPECT_EQ(body_as<req::say>(r).text, "hello there");
  EXPECT_FALSE(body_as<req::say>(r).me);
}

TEST(TextCommand, EmptyLineIsNothing) { EXPECT_FALSE(parse_text_line("").has_value()); }

TEST(TextCommand, DoubleSlashSendsALeadingSlash) {
  EXPECT_EQ(body_as<req::say>(parse_text_line("//shrug")).text, "/shrug");
}

TEST(TextCommand, Commands) {
  EXPECT_EQ(body_as<req::nick>(parse_text_line("/nick alice")).nick, "alice");
  EXPECT_EQ(body_as<req::join>(parse_text_line("/join #Dev")).room, "#Dev");
  body_as<req::rooms>(parse_text_line("/rooms"));
  body_as<req::who>(parse_text_line("/who"));
  body_as<req::help>(parse_text_line("/help"));
  body_as<req::quit>(parse_text_line("/quit"));
  body_as<req::json_mode>(parse_text_line("/json"));
  body_as<req::nick>(parse_text_line("/NICK bob"));
}

TEST(TextCommand, MeKeepsItsText) {
  const auto r = parse_text_line("/me waves  twice");
  const auto& say = body_as<req::say>(r);
  EXPECT_TRUE(say.me);
  EXPECT_EQ(say.text, "waves  twice");
}

TEST(TextCommand, MissingArgumentIsAUsageError) {
  EXPECT_EQ(body_as<req::invalid>(parse_text_line("/nick")).message, "usage: /nick NAME");
  EXPECT_EQ(body_as<req::invalid>(parse_text_line("/join  ")).message, "usage: /join ROOM");
  EXPECT_EQ(body_as<req::invalid>(parse_text_line("/me")).message, "usage: /me TEXT");
}

TEST(TextCommand, MsgIsADirectMessage) {
  const auto r = parse_text_line("/msg bob  hello   there ");
  const auto& say = body_as<req::say>(r);
  EXPECT_EQ(say.to, "bob");
  EXPECT_EQ(say.text, " hello   there ");  // as typed after the nick's one space
  EXPECT_FALSE(say.me);
  EXPECT_EQ(body_as<req::say>(parse_text_line("/MSG   Bob\thi")).to, "Bob");
  EXPECT_EQ(body_as<req::say>(parse_text_line("/msg Bob\thi")).text, "hi");
  EXPECT_EQ(body_as<req::say>(parse_text_line("plain")).to, "");
  for (const char* bad : {"/msg", "/msg ", "/msg bob", "/msg bob ", "/msg bob  \t "})
    EXPECT_EQ(body_as<req::invalid>(parse_text_line(bad)).message, "usage: /msg NICK TEXT") << bad;
}

TEST(TextCommand, Topic) {
  const auto ask = parse_text_line("/topic");
  EXPECT_FALSE(body_as<req::topic>(ask).topic.has_value());
  EXPECT_EQ(body_as<req::topic>(ask).room, "");
  EXPECT_FALSE(body_as<req::topic>(parse_text_line("/topic   ")).topic.has_value());
  EXPECT_EQ(body_as<req::topic>(parse_text_line("/TOPIC  Release on Friday ")).topic,
            std::optional<std::string>("Release on Friday"));
}

TEST(TextCommand, LeaveAndPart) {
  EXPECT_EQ(body_as<req::leave>(parse_text_line("/leave")).room, "");
  EXPECT_EQ(body_as<req::leave>(parse_text_line("/part")).room, "");
  EXPECT_EQ(body_as<req::leave>(parse_text_line("/PART #dev")).room, "#dev");
  EXPECT_EQ(body_as<req::leave>(parse_text_line("/leave dev ")).room, "dev");
}

TEST(TextCommand, UnknownCommand) {
  const auto r = parse_text_line("/frobnicate now");
  const auto& bad = body_as<req::invalid>(r);
  EXPECT_EQ(bad.code, error_code::bad_request);
  EXPECT_EQ(bad.message, "unknown command: /frobnicate (try /help)");
}

TEST(TextCommand, HelpListsEveryCommand) {
  std::string all;
  for (const char* const* l = help_lines(); *l; ++l) all += *l;
  for (const char* cmd : {"/nick", "/join", "/rooms", "/who", "/me", "/help", "/json", "/quit",
                          "/leave", "/part", "/msg NICK TEXT", "/topic", "/topic TEXT"})
    EXPECT_NE(all.find(cmd), std::string::npos) << cmd;
}

}  // namespace
}  // namespace chatgate::protocol
