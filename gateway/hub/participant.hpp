// What the hub sees of a client: somewhere to deliver bytes (Asio chat's
// chat_participant). Rooms and the hub never see a socket.
#pragma once

#include <memory>
#include <string>

namespace chatgate {

using shared_bytes = std::shared_ptr<const std::string>;

// How events are put on the wire: SPEC 3 text lines, SPEC 4 NDJSON lines,
// or the same JSON objects in WebSocket text frames; IRC lines (SPEC 14),
// with `@time=` tags for clients that negotiated server-time.
enum class wire : unsigned char { text, json_lines, ws_frames, irc, irc_tagged };
inline constexpr int wire_count = 5;

class participant {
 public:
  virtual ~participant() = default;

  // Queues bytes already encoded in this client's wire format. Must not call
  // back into the hub: a client whose queue overflows schedules its own
  // disconnect for later.
  virtual void deliver(const shared_bytes& bytes) = 0;

  // Flushes what is queued, then closes. Safe to call twice; the transport
  // calls hub::disconnect once the connection is really gone.
  virtual void close() = 0;

  // Disconnects a client that does not read (its queue is full, or it is
  // stuck behind while the server sheds load). Never re-enters the hub.
  virtual void drop_slow() = 0;

  // Bytes waiting to be written to this client.
  virtual std::size_t queued_bytes() const = 0;

  // The text connection now speaks NDJSON (TCP `/json`).
  virtual void use_json() {}

  // How this client frames JSON events.
  virtual wire json_wire() const { return wire::json_lines; }

  // Whether a JSON-mode sender gets its own chat messages back (its ack).
  // IRC clients do only with the echo-message capability.
  virtual bool echoes_own_messages() const { return true; }
};

}  // namespace chatgate
