// The recent messages of every room, in memory, that joins are served from.
//
// Two caps: `per_room` messages per room (--history) and `max_bytes` for all
// rooms together (--history-bytes, SPEC 9). When the byte cap is reached the
// rooms idle longest (least recently appended to) lose their whole history
// first: a room nobody has written to for longest is the least likely to be
// replayed, and dropping it whole frees the most for one decision. Only when
// the room being written to is the last one left does it lose its oldest
// messages one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/event.hpp"

namespace chatgate {

class history_cache {
 public:
  history_cache(std::size_t per_room, std::size_t max_bytes)
      : per_room_(per_room), max_bytes_(max_bytes) {}

  // What one kept message is charged: its strings plus a fixed overhead for
  // the node, the shared_ptr and the allocator (at most text + 512, SPEC 9).
  static std::size_t cost(const protocol::chat_message& m);

  // Adds the room's newest message; evicts to stay within both caps.
  void append(const std::string& room, protocol::stored_ptr m);
  // Replaces what the cache holds for `room` with `messages` (oldest first,
  // the last ones the room has), e.g. read back from disk.
  void fill(const std::string& room, std::vector<protocol::stored_ptr> messages);

  // The kept messages with id > after, oldest first.
  std::vector<protocol::stored_ptr> since(const std::string& room, std::uint64_t after) const;
  // Whether since(room, after) is the whole answer for a store that also
  // has older messages elsewhere: the cache holds every message after
  // `after` (after == 0: the room's last `per_room` messages).
  bool answers(const std::string& room, std::uint64_t after) const;

  void forget(const std::string& room);

  std::size_t bytes() const { return bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }
  std::size_t per_room() const { return per_room_; }

 private:
  struct log {
    std::string room;
    std::deque<protocol::stored_ptr> messages;
    std::size_t bytes = 0;
    // Every message of the room with an id above `floor` is here (until
    // the byte cap took some): answers() is true from there on.
    std::uint64_t floor = 0;
    bool complete = false;  // holds the room's last min(per_room, all) messages
    std::list<log*>::iterator lru;
  };

  log& touch(const std::string& room);
  void pop_front(log& l);
  void drop(log& l);
  void evict(const log& keep);

  std::size_t per_room_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, log> logs_;
  std::list<log*> lru_;  // least recently appended to first
};

}  // namespace chatgate
