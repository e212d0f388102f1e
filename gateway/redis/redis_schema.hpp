// What the cluster keeps in Redis (SPEC 11): key and channel names, the
// publish script, and the message payload. Pure code, no I/O; the design is
// in docs/architecture.md, "Cluster".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/event.hpp"

namespace chatgate::redis::schema {

// Every key of one room shares the hash tag {ROOM}, so a room lives on one
// Redis Cluster slot and the publish script may touch all of them.
std::string room_id_key(std::string_view room);   // chatgate:{ROOM}:id     the id counter
std::string room_log_key(std::string_view room);  // chatgate:{ROOM}:log    stream, entry id = "<id>-0"
std::string room_channel(std::string_view room);  // chatgate:{ROOM}:ch     pub/sub of new messages
// chatgate:{ROOM}:pub:NODE:SEQ, the publish's result: its id, for a while.
std::string publish_result_key(std::string_view room, std::string_view node, std::uint64_t seq);
std::string node_channel(std::string_view node);  // chatgate:node:NODE    DMs and probes to a node

// The publish script, one round trip per message, atomic:
//   KEYS: id counter, stream, result key[, guard: the result key of the
//         node's previous publish to the room, when its reply is still out]
//   ARGV: deadline (ms, Redis clock), history MAXLEN, channel, result TTL ms,
//         body (a JSON object: the message without id and ts), room TTL ms
//         (set on the first and every 32nd id; the presence refresh renews it)
// Returns {1, id, ts} published; {0, "expired"} when Redis runs it after
// the deadline (the node has told the sender `unavailable`: it must never
// surface); {2, id} when the result key says it was published already;
// {3, "behind"} when the guard key is absent (the previous publish has not
// run: this one did nothing and is sent again behind it).
extern const char* const publish_script;
// Its SHA1 (hex), for EVALSHA.
const std::string& publish_script_sha();

// The SHA1 of a script as Redis names it (40 lower-case hex digits).
std::string script_sha1(std::string_view script);

enum class publish_outcome { published, expired, duplicate, bad_reply };

// The message as the script gets it: everything but id and ts, plus the
// publishing node and its sequence number (to match the subscription's copy
// to the sender's pending publish).
std::string encode_body(const protocol::chat_message& m, std::string_view node, std::uint64_t seq);

struct entry {
  protocol::chat_message msg;
  std::string node;
  std::uint64_t seq = 0;
};
// A stream entry or a published payload; nullopt when it is not one.
std::optional<entry> decode_entry(std::string_view json);

}  // namespace chatgate::redis::schema
