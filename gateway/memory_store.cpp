#include <deque>
#include <unordered_map>

#include "gateway/message_store.hpp"

namespace chatgate {
namespace {

class memory_store final : public message_store {
 public:
  explicit memory_store(std::size_t capacity) : capacity_(capacity) {}

  std::uint64_t next_id(const std::string& room) override { return logs_[room].last_id + 1; }

  void append(const std::string& room, protocol::message_ptr msg) override {
    log& l = logs_[room];
    l.last_id = msg->msg.id;
    if (capacity_ == 0) return;
    if (l.messages.size() == capacity_) l.messages.pop_front();
    l.messages.push_back(std::move(msg));
  }

  std::vector<protocol::message_ptr> since(const std::string& room,
                                           std::uint64_t after) const override {
    std::vector<protocol::message_ptr> out;
    auto it = logs_.find(room);
    if (it == logs_.end()) return out;
    for (const auto& m : it->second.messages)
      if (m->msg.id > after) out.push_back(m);
    return out;
  }

  void forget(const std::string& room) override { logs_.erase(room); }

 private:
  struct log {
    std::uint64_t last_id = 0;
    std::deque<protocol::message_ptr> messages;
  };

  std::size_t capacity_;
  std::unordered_map<std::string, log> logs_;
};

}  // namespace

std::unique_ptr<message_store> make_memory_store(std::size_t capacity) {
  return std::make_unique<memory_store>(capacity);
}

}  // namespace chatgate
