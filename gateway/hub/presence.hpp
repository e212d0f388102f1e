// Presence in large rooms (docs/architecture.md, "Presence in large rooms").
//
// Announcing every join to every member costs a room of N people N^2/2
// `joined` events as it fills. Up to --presence-limit members each join and
// leave is announced as SPEC 3, 4 and 14 describe; above it they are only
// counted, and members get one `presence` event (the room's size and the
// joins and leaves since the last one) a second at most. `who` stays exact.
//
// Pure bookkeeping, no sockets and no clients, so a cluster node can apply
// the same rule to joins and leaves that arrive from other nodes.
#pragma once

#include <cstddef>

#include "protocol/event.hpp"

namespace chatgate {

// Whether a join or leave is announced one by one: `members` counts the
// room with the person joining or leaving in it. `limit` 0: always.
inline bool announce_each(std::size_t members, std::size_t limit) {
  return limit == 0 || members <= limit;
}

// Joins and leaves of one room that were counted instead of announced, until
// the next tick hands them out as one `presence` event.
class presence_tally {
 public:
  void joined() { ++joined_; }
  void left() { ++left_; }
  bool pending() const { return joined_ != 0 || left_ != 0; }
  // The event for this interval; the tally starts again from zero.
  protocol::ev::presence take(const std::string& room, std::size_t members);

 private:
  std::size_t joined_ = 0;
  std::size_t left_ = 0;
};

}  // namespace chatgate
