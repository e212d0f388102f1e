#include "protocol/json_request.hpp"

#include <gtest/gtest.h>

namespace chatgate::protocol {
namespace {

std::string invalid_message(std::string_view frame) {
  const request r = parse_json_request(frame);
  EXPECT_TRUE(std::holds_alternative<req::invalid>(r.body)) << frame;
  if (!std::holds_alternative<req::invalid>(r.body)) return {};
  EXPECT_EQ(std::get<req::invalid>(r.body).code, error_code::bad_request);
  return std::get<req::invalid>(r.body).message;
}

TEST(JsonRequest, EveryType) {
  auto say = parse_json_request(R"({"type":"say","room":"lobby","text":"hi","me":true,"ref":"a1"})");
  ASSERT_TRUE(std::holds_alternative<req::say>(say.body));
  EXPECT_EQ(std::get<req::say>(say.body).text, "hi");
  EXPECT_TRUE(std::get<req::say>(say.body).me);
  EXPECT_EQ(say.ref, "a1");

  auto join = parse_json_request(R"({"type":"join","room":"dev","since":41,"ref":3})");
  ASSERT_TRUE(std::holds_alternative<req::join>(join.body));
  EXPECT_EQ(std::get<req::join>(join.body).since, 41u);
  EXPECT_EQ(join.ref, 3);

  EXPECT_TRUE(std::holds_alternative<req::leave>(parse_json_request(R"({"type":"leave","room":"x"})").body));
  EXPECT_TRUE(std::holds_alternative<req::nick>(parse_json_request(R"({"type":"nick","nick":"al"})").body));
  EXPECT_TRUE(std::holds_alternative<req::rooms>(parse_json_request(R"({"type":"rooms"})").body));
  EXPECT_TRUE(std::holds_alternative<req::who>(parse_json_request(R"({"type":"who","room":"x"})").body));
}

TEST(JsonRequest, SayWithToIsADirectMessage) {
  auto r = parse_json_request(R"({"type":"say","to":"bob","text":"hi","me":true,"ref":1})");
  ASSERT_TRUE(std::holds_alternative<req::say>(r.body));
  const auto& say = std::get<req::say>(r.body);
  EXPECT_EQ(say.to, "bob");
  EXPECT_EQ(say.room, "");
  EXPECT_EQ(say.text, "hi");
  EXPECT_TRUE(say.me);
  EXPECT_EQ(std::get<req::say>(parse_json_request(R"({"type":"say","room":"x","text":"t"})").body).to, "");
  EXPECT_EQ(invalid_message(R"({"type":"say","to":"bob","room":"x","text":"t"})"),
            "say takes room or to, not both");
  EXPECT_EQ(invalid_message(R"({"type":"say","to":7,"text":"t"})"), "field must be a string: to");
  EXPECT_EQ(invalid_message(R"({"type":"say","to":"bob"})"), "missing field: text");
  EXPECT_EQ(invalid_message(R"({"type":"say","to":"","text":"t"})"), "field must not be empty: to");
}

TEST(JsonRequest, Topic) {
  auto ask = parse_json_request(R"({"type":"topic","room":"dev"})");
  ASSERT_TRUE(std::holds_alternative<req::topic>(ask.body));
  EXPECT_EQ(std::get<req::topic>(ask.body).room, "dev");
  EXPECT_FALSE(std::get<req::topic>(ask.body).topic.has_value());
  auto null_topic = parse_json_request(R"({"type":"topic","room":"dev","topic":null})");
  EXPECT_FALSE(std::get<req::topic>(null_topic.body).topic.has_value());
  auto set = parse_json_request(R"({"type":"topic","room":"dev","topic":"new","ref":"t"})");
  EXPECT_EQ(std::get<req::topic>(set.body).topic, std::optional<std::string>("new"));
  EXPECT_EQ(set.ref, "t");
  auto clear = parse_json_request(R"({"type":"topic","room":"dev","topic":""})");
  EXPECT_EQ(std::get<req::topic>(clear.body).topic, std::optional<std::string>(""));
  EXPECT_EQ(invalid_message(R"({"type":"topic"})"), "missing field: room");
  EXPECT_EQ(invalid_message(R"({"type":"topic","room":"dev","topic":1})"), "field must be a string: topic");
}

TEST(JsonRequest, BadInputIsABadRequest) {
  EXPECT_EQ(invalid_message("not json"), "not valid JSON");
  EXPECT_EQ(invalid_message("[1,2]"), "a request must be a JSON object");
  EXPECT_EQ(invalid_message(R"("say")"), "a request must be a JSON object");
  EXPECT_EQ(invalid_message(R"({"room":"x"})"), "missing field: type");
  EXPECT_EQ(invalid_message(R"({"type":7})"), "field must be a string: type");
  EXPECT_EQ(invalid_message(R"({"type":"dance"})"), "unknown type: dance");
  EXPECT_EQ(invalid_message(R"({"type":"say","room":"x"})"), "missing field: text");
  EXPECT_EQ(invalid_message(R"({"type":"say","room":"x","text":5})"), "field must be a string: text");
  EXPECT_EQ(invalid_message(R"({"type":"say","room":"x","text":"t","me":"yes"})"),
            "field must be true or false: me");
  EXPECT_EQ(invalid_message(R"({"type":"join","room":"x","since":-1})"),
            "field must be a non-negative integer: since");
  EXPECT_EQ(invalid_message(R"({"type":"rooms","ref":{"a":1}})"), "ref must be a string or a number");
  EXPECT_EQ(invalid_message(std::string("{\"type\":\"say\",\"room\":\"x\",\"text\":\"\xff\"}")),
            "not valid JSON");
}

TEST(JsonRequest, RefIsKeptOnErrors) {
  auto r = parse_json_request(R"({"type":"dance","ref":"r9"})");
  EXPECT_TRUE(std::holds_alternative<req::invalid>(r.body));
  EXPECT_EQ(r.ref, "r9");
}

TEST(JsonRequest, DeepNestingDoesNotCrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(invalid_message(deep), "a request must be a JSON object");
}

}  // namespace
}  // namespace chatgate::protocol
