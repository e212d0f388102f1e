#include <unordered_map>

#include "gateway/hub/history_cache.hpp"
#include "gateway/store/message_store.hpp"

namespace chatgate {
namespace {

class store_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chatgate.store"; }
  std::string message(int) const override { return "unavailable"; }
};

class memory_store final : public message_store {
 public:
  memory_store(std::size_t per_room, std::size_t max_bytes) : cache_(per_room, max_bytes) {}

  void publish(protocol::chat_message msg, published then) override {
    msg.id = ++last_ids_[msg.room];
    auto stored = std::make_shared<const protocol::chat_message>(std::move(msg));
    cache_.append(stored->room, stored);
    then({}, std::make_shared<const protocol::sealed_message>(std::move(stored)));
  }

  void history(const std::string& room, std::uint64_t after, std::size_t,
               history_loaded then) override {
    then({}, cache_.since(room, after));
  }

  void forget(const std::string& room) override {
    last_ids_.erase(room);
    topics_.erase(room);
    cache_.forget(room);
  }

  void set_topic(const std::string& room, topic_record topic, done then) override {
    topics_[room] = std::move(topic);
    then({});
  }

  void topic(const std::string& room, topic_loaded then) override {
    auto it = topics_.find(room);
    then({}, it == topics_.end() ? std::nullopt : std::optional<topic_record>(it->second));
  }

  std::size_t history_bytes() const override { return cache_.bytes(); }

 private:
  history_cache cache_;
  std::unordered_map<std::string, std::uint64_t> last_ids_;
  std::unordered_map<std::string, topic_record> topics_;
};

}  // namespace

const std::error_category& store_category() {
  static const store_category_impl category;
  return category;
}

std::unique_ptr<message_store> make_memory_store(std::size_t per_room, std::size_t max_bytes) {
  return std::make_unique<memory_store>(per_room, max_bytes);
}

}  // namespace chatgate
