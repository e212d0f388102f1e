#include "protocol/event.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

using json = nlohmann::json;

message_ptr sample(bool me = false) {
  chat_message m{"lobby", "alice", via::tcp, "hi \"there\"", 7, 1700000000123, me};
  return std::make_shared<const sealed_message>(std::move(m));
}

TEST(Event, MessageInBothFormats) {
  const auto m = sample();
  EXPECT_EQ(m->text, "[lobby] alice: hi \"there\"\n");
  ASSERT_EQ(m->json.back(), '\n');
  const json j = json::parse(m->json);
  EXPECT_EQ(j, json::parse(R"({"type":"message","room":"lobby","from":"alice","via":"tcp",
                               "text":"hi \"there\"","id":7,"ts":1700000000123})"));
}

TEST(Event, ActionInBothFormats) {
  const auto m = sample(true);
  EXPECT_EQ(m->text, "[lobby] * alice hi \"there\"\n");
  EXPECT_EQ(json::parse(m->json)["me"], true);
}

TEST(Event, RefIsAddedToDirectAnswers) {
  const json j = json::parse(encode_json(ev::error{error_code::nick_taken, "nick taken: bob"}, "r1"));
  EXPECT_EQ(j, json::parse(R"({"type":"error","code":"nick_taken","message":"nick taken: bob","ref":"r1"})"));
  EXPECT_EQ(encode_text(ev::error{error_code::rate_limited, "slow down"}), "! slow down\n");
}

TEST(Event, HistoryEncodesLikeLiveMessages) {
  ev::history h{"lobby", {sample()->msg, sample(true)->msg}};
  const json j = json::parse(encode_json(h, 5));
  EXPECT_EQ(j["type"], "history");
  EXPECT_EQ(j["ref"], 5);
  ASSERT_EQ(j["messages"].size(), 2u);
  EXPECT_EQ(j["messages"][1]["me"], true);
  EXPECT_EQ(encode_text(h), sample()->text + sample(true)->text);
  EXPECT_EQ(j["messages"][0], json::parse(sample()->json));
  EXPECT_EQ(json::parse(encode_json(ev::history{"x", {}}))["messages"], json::array());
}

TEST(Event, TextLinesOfTheSpec) {
  EXPECT_EQ(encode_text(ev::welcome{"guest-1", {"lobby"}}),
            "* welcome guest-1, you are in #lobby. /help lists commands\n");
  EXPECT_EQ(encode_text(ev::joined{"dev", "bob", via::ws}), "* bob joined #dev\n");
  EXPECT_EQ(encode_text(ev::left{"dev", "bob", via::ws}), "* bob left #dev\n");
  EXPECT_EQ(encode_text(ev::nick{"guest-1", "bob"}), "* guest-1 is now known as bob\n");
  EXPECT_EQ(encode_text(ev::rooms{{{"dev", 2}, {"lobby", 5}}}), "* #dev (2)\n* #lobby (5)\n");
  EXPECT_EQ(encode_text(ev::who{"dev", {{"bob", via::ws}, {"al", via::udp}}}),
            "* bob (ws)\n* al (udp)\n");
}

TEST(Event, JsonShapesOfTheSpec) {
  EXPECT_EQ(json::parse(encode_json(ev::welcome{"g", {"lobby"}})),
            json::parse(std::string(R"({"type":"welcome","nick":"g","rooms":["lobby"],"server":")") +
                        server_name + "\"}"));
  EXPECT_EQ(json::parse(encode_json(ev::rooms{{{"dev", 2}}})),
            json::parse(R"({"type":"rooms","rooms":[{"room":"dev","members":2}]})"));
  EXPECT_EQ(json::parse(encode_json(ev::who{"dev", {{"bob", via::echo}}})),
            json::parse(R"({"type":"who","room":"dev","members":[{"nick":"bob","via":"echo"}]})"));
  EXPECT_EQ(json::parse(encode_json(ev::nick{"a", "b"})), json::parse(R"({"type":"nick","old":"a","nick":"b"})"));
  EXPECT_EQ(encode_json(ev::notice{{"text only"}}), "");
}

}  // namespace
}  // namespace chatgate::protocol
