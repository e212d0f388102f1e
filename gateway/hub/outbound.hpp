// One event on its way out: encoded at most once per wire format, and the
// same bytes shared by every recipient (Beast's shared_state::send).
#pragma once

#include <optional>
#include <utility>

#include "gateway/hub/participant.hpp"
#include "gateway/transport/ws_frame.hpp"
#include "protocol/event.hpp"
#include "protocol/irc_encode.hpp"

namespace chatgate {

class outbound {
 public:
  explicit outbound(protocol::event e, protocol::ref_value ref = nullptr)
      : event_(std::move(e)), ref_(std::move(ref)) {}

  // Null when this wire format has nothing to show for the event.
  const shared_bytes& bytes(wire w) {
    std::optional<shared_bytes>& slot = slots_[static_cast<int>(w)];
    if (!slot) slot = make(w);
    return *slot;
  }

 private:
  shared_bytes make(wire w) {
    if (w == wire::ws_frames) {
      // The frame carries the NDJSON line's object, without its '\n'.
      const shared_bytes& line = bytes(wire::json_lines);
      return line ? std::make_shared<const std::string>(ws_text_frame(*line)) : nullptr;
    }
    if (w == wire::irc || w == wire::irc_tagged) {
      std::string s = protocol::encode_irc(event_, ref_, w == wire::irc_tagged);
      return s.empty() ? nullptr : std::make_shared<const std::string>(std::move(s));
    }
    const bool json = w == wire::json_lines;
    // A chat message was encoded when it was sealed: share those bytes.
    if (const auto* m = std::get_if<protocol::ev::message>(&event_); m && ref_.is_null())
      return shared_bytes(m->msg, json ? &m->msg->json : &m->msg->text);
    std::string s = json ? protocol::encode_json(event_, ref_) : protocol::encode_text(event_);
    if (s.empty()) return nullptr;
    return std::make_shared<const std::string>(std::move(s));
  }

  protocol::event event_;
  protocol::ref_value ref_;
  std::optional<shared_bytes> slots_[wire_count];  // by wire
};

}  // namespace chatgate
