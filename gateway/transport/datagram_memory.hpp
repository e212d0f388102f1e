// Which datagrams went by recently, as keyed hashes with a count: how the
// echo notices that it is bouncing the same datagram back and forth with
// another echo, and the UDP chat that its own output came back (SPEC 9).
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>

namespace chatgate {

class datagram_memory {
 public:
  using clock = std::chrono::steady_clock;

  // Remembers for one to two `period`s, at most `max_entries` per period.
  datagram_memory(std::size_t max_entries, clock::duration period)
      : max_entries_(max_entries), period_(period) {}

  // How often `key` was recorded in the last one to two periods.
  std::uint32_t count(std::uint64_t key, clock::time_point now) {
    rotate(now);
    return find(current_, key) + find(previous_, key);
  }

  // Records one more `key`; false when this period is full (the caller
  // then drops the datagram: what cannot be remembered is not sent).
  bool record(std::uint64_t key, clock::time_point now) {
    rotate(now);
    auto it = current_.find(key);
    if (it != current_.end()) return ++it->second, true;
    if (current_.size() >= max_entries_) return false;
    current_.emplace(key, 1);
    return true;
  }

  std::size_t size() const { return current_.size() + previous_.size(); }

 private:
  // Keys are keyed hashes already: use them as they are.
  struct identity {
    std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(k); }
  };
  using table = std::unordered_map<std::uint64_t, std::uint32_t, identity>;

  static std::uint32_t find(const table& t, std::uint64_t key) {
    auto it = t.find(key);
    return it == t.end() ? 0 : it->second;
  }

  void rotate(clock::time_point now) {
    if (now - started_ < period_) return;
    // A whole period of silence forgets both generations.
    if (now - started_ >= 2 * period_) current_.clear();
    previous_.swap(current_);
    current_.clear();
    started_ = now;
  }

  std::size_t max_entries_;
  clock::duration period_;
  clock::time_point started_{};
  table current_, previous_;
};

}  // namespace chatgate
