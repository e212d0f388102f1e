// One event on its way out: encoded at most once per wire format, and the
// same bytes shared by every recipient (Beast's shared_state::send).
#pragma once

#include <optional>
#include <utility>

#include "gateway/participant.hpp"
#include "protocol/event.hpp"

namespace chatgate {

class outbound {
 public:
  explicit outbound(protocol::event e, protocol::ref_value ref = nullptr)
      : event_(std::move(e)), ref_(std::move(ref)) {}

  // Null when this wire format has nothing to show for the event.
  const shared_bytes& bytes(bool json) { return json ? encode(json_, true) : encode(text_, false); }

 private:
  const shared_bytes& encode(std::optional<shared_bytes>& slot, bool json) {
    if (!slot) slot = make(json);
    return *slot;
  }

  shared_bytes make(bool json) const {
    // A chat message was encoded when it was sealed: share those bytes.
    if (const auto* m = std::get_if<protocol::ev::message>(&event_); m && ref_.is_null())
      return shared_bytes(m->msg, json ? &m->msg->json : &m->msg->text);
    std::string s = json ? protocol::encode_json(event_, ref_) : protocol::encode_text(event_);
    if (s.empty()) return nullptr;
    return std::make_shared<const std::string>(std::move(s));
  }

  protocol::event event_;
  protocol::ref_value ref_;
  std::optional<shared_bytes> json_;
  std::optional<shared_bytes> text_;
};

}  // namespace chatgate
