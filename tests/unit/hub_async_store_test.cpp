// The hub over a store that answers later (SQLite after its commit, Redis
// after a round trip): the contract of gateway/store/message_store.hpp.
#include "gateway/hub/hub.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "protocol/json_request.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

using json = nlohmann::json;

struct fake_client : participant {
  void deliver(const shared_bytes& bytes) override { received.push_back(*bytes); }
  void close() override {}
  void use_json() override {}
  std::size_t queued_bytes() const override { return 0; }
  void drop_slow() override {}
  std::vector<json> messages() {
    std::vector<json> out;
    for (auto& r : received)
      if (r.front() == '{') {
        json j = json::parse(r);
        if (j["type"] == "message" || j["type"] == "error") out.push_back(j);
      }
    received.clear();
    return out;
  }
  std::deque<std::string> received;
};

// Holds every publish until the test completes it (or fails it).
class deferred_store final : public message_store {
 public:
  void publish(protocol::chat_message msg, published then) override {
    queue.push_back({std::move(msg), std::move(then)});
  }
  void complete(bool ok = true) {
    auto [msg, then] = std::move(queue.front());
    queue.pop_front();
    if (!ok) return then(store_errc::unavailable, nullptr);
    msg.id = ++last_id;
    then({}, std::make_shared<const protocol::sealed_message>(std::move(msg)));
  }
  void history(const std::string&, std::uint64_t, std::size_t, history_loaded then) override { then({}, {}); }
  void forget(const std::string&) override {}
  void set_topic(const std::string&, topic_record, done then) override { then({}); }
  void topic(const std::string&, topic_loaded then) override { then({}, std::nullopt); }
  void on_remote(std::function<void(protocol::message_ptr)> s) override { sink = std::move(s); }
  std::size_t history_bytes() const override { return 0; }

  std::deque<std::pair<protocol::chat_message, published>> queue;
  std::function<void(protocol::message_ptr)> sink;
  std::uint64_t last_id = 0;
};

class HubAsyncStore : public ::testing::Test {
 protected:
  HubAsyncStore() {
    cfg.rate = 1e9, cfg.burst = 1e9;
    auto s = std::make_unique<deferred_store>();
    store = s.get();
    h = std::make_unique<hub>(cfg, stats, std::move(s));
  }
  client_id ws(fake_client& c) {
    auto id = h->connect(c, protocol::via::ws, true);
    c.received.clear();
    return id;
  }
  void say(client_id id, const std::string& text, int ref) {
    h->handle(id, protocol::parse_json_request(
                      json{{"type", "say"}, {"room", "lobby"}, {"text", text}, {"ref", ref}}.dump()));
  }

  config cfg;
  metrics stats;
  deferred_store* store = nullptr;
  std::unique_ptr<hub> h;
};

TEST_F(HubAsyncStore, NothingIsDeliveredBeforeTheStoreAnswersThenInOrder) {
  fake_client a, b;
  const auto ia = ws(a);
  ws(b);
  say(ia, "one", 1);
  say(ia, "two", 2);
  EXPECT_TRUE(b.messages().empty());
  EXPECT_TRUE(a.messages().empty());
  store->complete();
  store->complete();
  auto got = b.messages();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["text"], "one");
  EXPECT_EQ(got[0]["id"], 1);
  EXPECT_EQ(got[1]["id"], 2);
  auto acks = a.messages();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0]["ref"], 1);
  EXPECT_EQ(acks[1]["ref"], 2);
}

TEST_F(HubAsyncStore, AFailedPublishIsUnavailableToTheSenderAndNobodyElseHearsIt) {
  fake_client a, b, t;
  const auto ia = ws(a);
  ws(b);
  const auto it = h->connect(t, protocol::via::tcp, false);
  t.received.clear();
  say(ia, "lost", 7);
  if (auto r = protocol::parse_text_line("me too")) h->handle(it, std::move(*r));
  store->complete(false);
  store->complete(false);
  auto errs = a.messages();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0]["type"], "error");
  EXPECT_EQ(errs[0]["code"], "unavailable");
  EXPECT_EQ(errs[0]["ref"], 7);
  EXPECT_EQ(t.received.back(), "! unavailable, not sent\n");
  EXPECT_TRUE(b.messages().empty());
  EXPECT_EQ(stats.store_errors, 2u);
  EXPECT_EQ(stats.messages, 0u);
}

TEST_F(HubAsyncStore, TheSenderMayBeGoneWhenTheStoreAnswers) {
  fake_client a, b;
  const auto ia = ws(a);
  ws(b);
  say(ia, "parting words", 1);
  h->disconnect(ia);
  b.received.clear();
  store->complete();
  auto got = b.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["text"], "parting words");
}

TEST_F(HubAsyncStore, RemoteMessagesFanOutLikeLocalOnes) {
  fake_client a;
  ws(a);
  ASSERT_TRUE(store->sink);
  protocol::chat_message m{"lobby", "bob", protocol::via::irc, "from another node", 5, 1, false};
  store->sink(std::make_shared<const protocol::sealed_message>(std::move(m)));
  auto got = a.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["from"], "bob");
  EXPECT_EQ(got[0]["id"], 5);
  EXPECT_FALSE(got[0].contains("ref"));
}

}  // namespace
}  // namespace chatgate
