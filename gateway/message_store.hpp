// Where each room's message ids and history live.
//
// This is the seam for what comes next: an SQLite store keeps history across
// restarts, and a Redis store shares ids and history between gateways. The
// hub only ever talks to this interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/event.hpp"

namespace chatgate {

class message_store {
 public:
  virtual ~message_store() = default;

  // The id the next message in `room` gets (1, 2, 3, ... with no gaps).
  virtual std::uint64_t next_id(const std::string& room) = 0;
  // Records a message whose id came from next_id().
  virtual void append(const std::string& room, protocol::message_ptr msg) = 0;
  // The kept messages with id > after, oldest first.
  virtual std::vector<protocol::message_ptr> since(const std::string& room,
                                                   std::uint64_t after) const = 0;
  // The room is gone (no members): its history may be dropped.
  virtual void forget(const std::string& room) = 0;
};

// Keeps the last `capacity` messages of each room in memory.
std::unique_ptr<message_store> make_memory_store(std::size_t capacity);

}  // namespace chatgate
