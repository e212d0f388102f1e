// Where each room's message ids, history and topic live: the seam between
// the hub and memory (default), SQLite (--db, SPEC 10) and Redis (--redis,
// SPEC 11). The hub only ever talks to this interface.
//
// Every operation completes through a callback, because in Redis mode an id
// comes back from a round trip and in SQLite mode a message is committed
// before anyone sees it. The rules that make that safe for the hub:
//
// - Callbacks run on the event loop thread, never inside another thread. A
//   store may call one before the operation returns (the memory store does).
// - publish() never blocks the loop. The callbacks of one room's publishes
//   run in the order of the calls, which is id order: the hub fans a message
//   out in its callback and never reorders a room.
// - A failed publish (store_errc::unavailable) kept nothing and used no id;
//   the message must never be delivered later.
// - Everything captured by a callback must be looked up again when it runs
//   (the sender may have gone, the room may have been forgotten).
// - In a cluster every node fans out only what arrives from its subscription
//   (Centrifugo's model): a store that hears of messages the hub did not
//   publish (another node's) hands them to the sink given to on_remote(), in
//   id order per room, interleaved correctly with its publish callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "protocol/event.hpp"

namespace chatgate {

enum class store_errc { unavailable = 1 };
const std::error_category& store_category();
inline std::error_code make_error_code(store_errc e) { return {static_cast<int>(e), store_category()}; }

struct topic_record {
  std::string text;
  std::string by;
  std::int64_t ts = 0;  // ms since the Unix epoch
};

class message_store {
 public:
  // The sealed message (id set, ready to fan out) or an error.
  using published = std::function<void(std::error_code, protocol::message_ptr)>;
  // Oldest first.
  using history_loaded = std::function<void(std::error_code, std::vector<protocol::stored_ptr>)>;
  using topic_loaded = std::function<void(std::error_code, std::optional<topic_record>)>;
  using done = std::function<void(std::error_code)>;

  virtual ~message_store() = default;

  // Gives `msg` (room, from, source, text, ts, me set) the room's next id
  // and keeps it; `then` gets it sealed once it is safe to deliver.
  virtual void publish(protocol::chat_message msg, published then) = 0;

  // The messages of `room` with id > after, oldest first: after == 0 is a
  // join (the last --history); otherwise as far back as the store holds,
  // at most about `max_bytes` of text (the client asks again with the last
  // id it got for more).
  virtual void history(const std::string& room, std::uint64_t after, std::size_t max_bytes,
                       history_loaded then) = 0;

  // The room has no members and the hub stops remembering it: its cached
  // history may go (what is on disk or in Redis stays).
  virtual void forget(const std::string& room) = 0;

  // Topics (SPEC 12), kept with the room.
  virtual void set_topic(const std::string& room, topic_record topic, done then) = 0;
  virtual void topic(const std::string& room, topic_loaded then) = 0;

  // SPEC 13: nicks a token proved are someone's, kept by --db (and Redis)
  // across restarts. The hub loads them once at start and hands over each
  // new one; memory keeps none (the hub's own set is all there is).
  using nicks_loaded = std::function<void(std::error_code, std::vector<std::string>)>;
  virtual void reserved_nicks(nicks_loaded then) { then({}, {}); }
  virtual void reserve_nick(const std::string& nick) { (void)nick; }

  // Messages published elsewhere (another node). Memory and SQLite never
  // call the sink.
  virtual void on_remote(std::function<void(protocol::message_ptr)> sink) { (void)sink; }

  // Bytes the in-memory history holds now (chatgate_history_bytes).
  virtual std::size_t history_bytes() const = 0;

  // Finishes what is in flight and closes; called after the loop stopped.
  virtual void close() {}
};

// Ids and the last `per_room` messages of each room, in memory, all rooms
// together within `max_bytes`. Forgetting a room forgets its ids.
std::unique_ptr<message_store> make_memory_store(std::size_t per_room,
                                                 std::size_t max_bytes = std::size_t{64} << 20);

}  // namespace chatgate

namespace std {
template <>
struct is_error_code_enum<chatgate::store_errc> : true_type {};
}  // namespace std
