// SASL PLAIN over IRC (IRCv3 sasl-3.1): the AUTHENTICATE payload arrives
// base64-encoded in chunks of at most 400 bytes and decodes to
// "authzid NUL authcid NUL password". Pure: no sockets, no tokens.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chatgate::protocol {

inline constexpr std::size_t sasl_chunk_bytes = 400;
// Base64 bytes one exchange may total: a token of max_token_bytes (4096)
// with two nicks fits; a client that sends more is refused, not buffered.
inline constexpr std::size_t sasl_max_payload = 6000;

enum class sasl_step {
  more,            // a full 400-byte chunk: more follows
  done,            // payload() is complete
  aborted,         // "AUTHENTICATE *": the client gave up (906)
  chunk_too_long,  // one parameter over 400 bytes (905)
  too_long,        // the chunks together over sasl_max_payload (904)
};

// Collects one exchange's chunks.
class sasl_reader {
 public:
  sasl_step feed(std::string_view param);
  const std::string& payload() const { return payload_; }
  void reset() { payload_.clear(); }

 private:
  std::string payload_;
};

struct sasl_plain {
  std::string authzid;  // may be empty
  std::string authcid;
  std::string password;
};

// Standard base64 (RFC 4648 section 4, padded) of the PLAIN message
// (RFC 4616); nullopt when it is not base64 or not three fields with a
// password.
std::optional<sasl_plain> decode_sasl_plain(std::string_view base64);

}  // namespace chatgate::protocol
