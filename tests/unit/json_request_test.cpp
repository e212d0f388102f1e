#include "protocol/json_request.hpp"

#include <gtest/gtest.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <vector>

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
  // Also when the parse stops after the ref was read.
  r = parse_json_request(R"({"ref":"r10","type":"say","x":)" + std::string(40, '[') + std::string(40, ']') + "}");
  EXPECT_EQ(std::get<req::invalid>(r.body).message, "JSON nested deeper than 32 levels");
  EXPECT_EQ(r.ref, "r10");
  r = parse_json_request(R"({"ref":11,"type":"say",)");
  EXPECT_EQ(std::get<req::invalid>(r.body).message, "not valid JSON");
  EXPECT_EQ(r.ref, 11);
}

TEST(JsonRequest, DeepNestingIsABadRequest) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(invalid_message(deep), "JSON nested deeper than 32 levels");
  const std::string deep_objects = [] {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "{\"a\":";
    return s + "1" + std::string(20000, '}');
  }();
  EXPECT_EQ(invalid_message(deep_objects), "JSON nested deeper than 32 levels");
}

// The request object is level 1: 32 levels in all are fine, 33 are not.
std::string nested_in_say(int levels) {
  return R"({"type":"say","room":"x","text":"t","extra":)" + std::string(levels - 1, '[') +
         std::string(levels - 1, ']') + "}";
}

TEST(JsonRequest, ThirtyTwoLevelsAreTheLimit) {
  EXPECT_TRUE(std::holds_alternative<req::say>(parse_json_request(nested_in_say(32)).body));
  EXPECT_EQ(invalid_message(nested_in_say(33)), "JSON nested deeper than 32 levels");
  // Depth counts open containers, not how many there were.
  std::string wide = R"({"type":"say","room":"x","text":"t","a":[)";
  for (int i = 0; i < 100; ++i) wide += std::string(i ? "," : "") + std::string(30, '[') + std::string(30, ']');
  EXPECT_TRUE(std::holds_alternative<req::say>(parse_json_request(wide + "]}").body));
}

TEST(JsonRequest, NestedValuesKeepTheirType) {
  EXPECT_EQ(invalid_message(R"({"type":"say","room":"x","text":{"a":[1,2]}})"), "field must be a string: text");
  EXPECT_EQ(invalid_message(R"({"type":"say","room":["x"],"text":"t"})"), "field must be a string: room");
  EXPECT_EQ(invalid_message(R"({"type":"join","room":"x","since":[]})"),
            "field must be a non-negative integer: since");
  EXPECT_EQ(invalid_message(R"({"type":"rooms","ref":[1]})"), "ref must be a string or a number");
  // Nested members are not top-level fields.
  EXPECT_EQ(invalid_message(R"({"a":{"type":"rooms"}})"), "missing field: type");
}

TEST(JsonRequest, DuplicateKeysTheLastWins) {
  auto r = parse_json_request(R"({"type":"say","room":"x","text":"first","text":"second","ref":1,"ref":"b"})");
  ASSERT_TRUE(std::holds_alternative<req::say>(r.body));
  EXPECT_EQ(std::get<req::say>(r.body).text, "second");
  EXPECT_EQ(r.ref, "b");
  std::string many = R"({"type":"say","room":"x")";
  for (int i = 0; i < 10000; ++i) many += R"(,"text":")" + std::to_string(i) + "\"";
  r = parse_json_request(many + "}");
  ASSERT_TRUE(std::holds_alternative<req::say>(r.body));
  EXPECT_EQ(std::get<req::say>(r.body).text, "9999");
}

TEST(JsonRequest, RefKeepsItsKind) {
  EXPECT_EQ(parse_json_request(R"({"type":"rooms","ref":-4})").ref, -4);
  EXPECT_EQ(parse_json_request(R"({"type":"rooms","ref":18446744073709551615})").ref,
            18446744073709551615u);
  EXPECT_EQ(parse_json_request(R"({"type":"rooms","ref":2.5})").ref, 2.5);
}

// --- 64 KiB frames of every shape (SPEC 9) ----------------------------------

constexpr std::size_t frame_size = 64 * 1024;

struct shape {
  const char* name;
  std::string frame;
};

std::vector<shape> big_frames(std::size_t size = frame_size) {
  const std::string say = R"({"type":"say","room":"x","text":"t")";
  std::vector<shape> out;
  std::string s = say;
  for (int i = 0; s.size() < size - 20; ++i) s += ",\"k" + std::to_string(i) + "\":1";
  out.push_back({"8000 distinct keys", s + "}"});
  s = say;
  while (s.size() < size - 20) s += R"(,"k":1)";
  out.push_back({"duplicate keys", s + "}"});
  s = R"({"type":"say","room":"x","text":")";
  out.push_back({"64 KiB string", s + std::string(size - s.size() - 2, 'a') + "\"}"});
  s = say + R"(,"a":[)";
  while (s.size() < size - 10) s += "[],";
  out.push_back({"30000 tiny arrays", s + "[]]}"});
  s = say + R"(,"a":[)";
  for (int i = 0; s.size() < size - 20; ++i) s += "{\"a" + std::to_string(i) + "\":{}},";
  out.push_back({"small objects", s + "{}]}"});
  s = say + R"(,"n":)";
  out.push_back({"long integer", s + std::string(size - s.size() - 1, '7') + "}"});
  s = say + R"(,"n":0.)";
  out.push_back({"long fraction", s + std::string(size - s.size() - 1, '7') + "}"});
  s = say + R"(,"n":[)";
  while (s.size() < size - 30) s += "1.2345678901234567e-300,";
  out.push_back({"many numbers", s + "1]}"});
  s = R"({"type":"say","room":"x","text":")";
  while (s.size() < size - 10) s += "\\u00e9";
  out.push_back({"escapes", s + "\"}"});
  s = say + R"(,"a":)";
  const std::size_t half = (size - s.size() - 1) / 2;
  out.push_back({"deep nesting", s + std::string(half, '[') + std::string(half, ']') + "}"});
  s = say + R"(,"a":[)";
  while (s.size() < size - 80) s += std::string(30, '[') + std::string(30, ']') + ",";
  out.push_back({"32 levels, many times", s + "1]}"});
  return out;
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

TEST(JsonRequest, BigFramesOfEveryShapeParse) {
  for (const shape& s : big_frames()) {
    EXPECT_LE(s.frame.size(), frame_size) << s.name;
    EXPECT_GE(s.frame.size(), frame_size - 64) << s.name;
    const request r = parse_json_request(s.frame);
    const std::string name = s.name;
    if (name == "deep nesting") {
      EXPECT_EQ(invalid_message(s.frame), "JSON nested deeper than 32 levels");
    } else if (name == "long integer") {
      // Too big for any number type: not valid JSON here, like nlohmann's DOM.
      EXPECT_EQ(invalid_message(s.frame), "not valid JSON");
    } else {
      EXPECT_TRUE(std::holds_alternative<req::say>(r.body)) << name;
    }
  }
}

double best_cpu_ms(const std::string& frame) {
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    const double start = thread_cpu_ms();
    (void)parse_json_request(frame);
    best = std::min(best, thread_cpu_ms() - start);
  }
  return best;
}

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr bool optimized_build = false;
#else
constexpr bool optimized_build = true;
#endif

// Four times the bytes cost about four times the CPU, in any build: a
// quadratic parse (the old ordered_json with 8000 keys) costs sixteen.
// Allowed: ten.
TEST(JsonRequest, BigFramesCostLinearTime) {
  const auto quarter = big_frames(frame_size / 4);
  const auto full = big_frames();
  for (std::size_t i = 0; i < full.size(); ++i) {
    const double small = best_cpu_ms(quarter[i].frame), big = best_cpu_ms(full[i].frame);
    std::printf("  %-22s 16 KiB %.2f ms, 64 KiB %.2f ms CPU\n", full[i].name, small, big);
    if (big > 0.5) {
      EXPECT_LT(big, 10 * std::max(small, 0.05)) << full[i].name;
    }
    // SPEC 9 budgets 5 ms; 10x allows for a busy machine and still fails
    // the quadratic parse (130 ms for 8000 keys).
    if (optimized_build) {
      EXPECT_LT(big, 50.0) << full[i].name;
    }
  }
}

}  // namespace
}  // namespace chatgate::protocol
