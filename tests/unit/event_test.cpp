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

// A sealed message's JSON is written without a JSON document: the same bytes
// as the document's dump (what encode_json writes for the same message), for
// any text: quotes, control characters, multi-byte and invalid UTF-8.
TEST(Event, SealedJsonIsTheDocumentsBytes) {
  const std::vector<std::string> texts{
      "", "plain", "q\"uo\\te/", std::string("nul\0x", 5), "\x01\x1f\x7f\b\f\n\r\t",
      "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE2\x82\xAC", "bad \xFF", "cut \xC3", "surrogate \xED\xA0\x80",
      "overlong \xC0\xAF"};
  for (const auto& t : texts)
    for (bool me : {false, true})
      for (bool direct : {false, true}) {
        chat_message m{"lobby", "alice", via::ws, t, 18446744073709551615ull, -5, me};
        if (direct) m.to = t.empty() ? "bob" : t;
        m.room = direct ? "" : (t.empty() ? "lobby" : t);
        m.from = t.empty() ? "alice" : t;
        auto sealed = std::make_shared<const sealed_message>(m);
        EXPECT_EQ(sealed->json, encode_json(ev::message{sealed}, {})) << t << " " << me << " " << direct;
        EXPECT_EQ(encode_json(ev::history{"lobby", {sealed->msg}}, {}),
                  R"({"type":"history","room":"lobby","messages":[)" +
                      sealed->json.substr(0, sealed->json.size() - 1) + "]}\n");
      }
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
            json::parse(R"({"type":"rooms","rooms":[{"room":"dev","members":2,"topic":""}]})"));
  EXPECT_EQ(json::parse(encode_json(ev::rooms{{{"dev", 2, "about dev"}}})),
            json::parse(R"({"type":"rooms","rooms":[{"room":"dev","members":2,"topic":"about dev"}]})"));
  EXPECT_EQ(json::parse(encode_json(ev::who{"dev", {{"bob", via::echo}}})),
            json::parse(R"({"type":"who","room":"dev","members":[{"nick":"bob","via":"echo"}]})"));
  EXPECT_EQ(json::parse(encode_json(ev::nick{"a", "b"})), json::parse(R"({"type":"nick","old":"a","nick":"b"})"));
  EXPECT_EQ(encode_json(ev::notice{{"text only"}}), "");
}

message_ptr direct(bool me = false) {
  chat_message m{"", "alice", via::udp, "psst", 0, 1700000000123, me, "Bob"};
  return std::make_shared<const sealed_message>(std::move(m));
}

TEST(Event, DirectMessageHasToAndNoRoomOrId) {
  const auto m = direct();
  EXPECT_EQ(m->text, "*alice* psst\n");
  EXPECT_EQ(m->json, R"({"type":"message","to":"Bob","from":"alice","via":"udp","text":"psst","ts":1700000000123})"
                     "\n");
}

TEST(Event, DirectActionKeepsTheMarker) {
  const auto m = direct(true);
  EXPECT_EQ(m->text, "*alice* * alice psst\n");
  EXPECT_EQ(json::parse(m->json)["me"], true);
  EXPECT_FALSE(json::parse(m->json).contains("room"));
}

TEST(Event, DirectMessageWithRef) {
  const json j = json::parse(encode_json(ev::message{direct()}, "r9"));
  EXPECT_EQ(j["ref"], "r9");
  EXPECT_EQ(j["to"], "Bob");
}

TEST(Event, TopicInBothFormats) {
  const ev::topic t{"dev", "Release on Friday", "alice", 1700000000123};
  EXPECT_EQ(encode_text(t), "* topic of #dev: Release on Friday (set by alice)\n");
  EXPECT_EQ(encode_json(t),
            R"({"type":"topic","room":"dev","topic":"Release on Friday","by":"alice","ts":1700000000123})"
            "\n");
  EXPECT_EQ(json::parse(encode_json(t, 4))["ref"], 4);
}

TEST(Event, NoTopicAndClearedTopic) {
  EXPECT_EQ(encode_text(ev::topic{"dev", "", "", 0}), "* no topic in #dev\n");
  EXPECT_EQ(encode_text(ev::topic{"dev", "", "bob", 5}), "* topic of #dev cleared by bob\n");
  EXPECT_EQ(json::parse(encode_json(ev::topic{"dev", "", "", 0})),
            json::parse(R"({"type":"topic","room":"dev","topic":"","by":"","ts":0})"));
}

}  // namespace
}  // namespace chatgate::protocol
