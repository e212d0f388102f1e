// Enough of telnet (RFC 854) on the TCP chat port for Debian's `telnet`:
// commands are taken out of the byte stream, never shown as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace chatgate::protocol {

namespace telnet {
constexpr unsigned char iac = 255, dont = 254, do_ = 253, wont = 252, will = 251, sb = 250,
                        ao = 245, ip = 244, brk = 243, se = 240, abort = 238, susp = 237,
                        eof = 236;
constexpr unsigned char timing_mark = 6;  // RFC 860
// Subnegotiation bytes skipped before the decoder gives up waiting for IAC SE.
constexpr std::size_t max_subnegotiation = 1024;
}  // namespace telnet

// Splits a byte stream into data and telnet commands, with state kept
// across calls so a command may be split between reads. The server never
// starts a negotiation, so a client that never sends IAC (nc, a program,
// NDJSON: 0xFF is never part of valid UTF-8) sees no difference.
//
//   IAC IAC                 a data byte 0xFF
//   IAC WILL x              answered IAC DONT x
//   IAC DO x                answered IAC WONT x, except DO TIMING-MARK,
//                           answered IAC WILL TIMING-MARK (telnet waits for
//                           it after Ctrl-C, discarding output until then)
//   IAC WONT x, IAC DONT x  nothing (a refusal is never answered)
//   IAC SB ... IAC SE       skipped; after max_subnegotiation bytes without
//                           IAC SE the rest is data again
//   IAC IP, AO, BRK, AYT, NOP, DM, EC, EL, GA, SE, EOF, SUSP, ABORT, EOR
//                           nothing, except in the middle of a UTF-8
//                           character (below)
//   IAC and a byte that is no command (< 236)   both are data
//
// Debian's telnet (inetutils) compares typed bytes with the terminal's
// special characters after stripping the eighth bit, as a 7-bit NVT does
// until BINARY is agreed (and the server never agrees to anything). So the
// UTF-8 continuation bytes 0x83, 0x8F, 0x9A and 0x9C (^C, ^O, ^Z, ^\ with
// the high bit set: the 0x9C of U+2713 and of U+00DC) arrive as IAC IP,
// IAC AO, IAC SUSP and IAC BRK (or ABORT), each followed by IAC DO
// TIMING-MARK. Where a UTF-8 continuation byte is due, such a command is
// that byte again; elsewhere it is the key the user pressed, and ignored.
class telnet_decoder {
 public:
  // Calls on_data(std::string_view) for each run of data bytes and
  // on_reply(std::string_view) for each answer to send back, in stream
  // order. on_data may return false to stop (the rest of `bytes` is dropped).
  template <class OnData, class OnReply>
  void feed(std::string_view bytes, OnData&& on_data, OnReply&& on_reply);

  bool in_command() const { return state_ != state::data; }

 private:
  enum class state : std::uint8_t { data, iac, option, sb, sb_iac };

  // What one command byte did.
  struct step_result {
    std::string_view data;   // a data byte to pass on (IAC IAC), or empty
    std::string_view reply;  // bytes to send back, or empty
  };
  // Consumes one byte while in a command.
  step_result step(unsigned char byte);
  // Follows the data stream's UTF-8: continuation bytes still due.
  void track_utf8(std::string_view data);
  step_result data_byte(unsigned char byte);

  state state_ = state::data;
  unsigned char verb_ = 0;
  // At most max_subnegotiation: two bytes keep the decoder at 10 bytes, so
  // a TCP session fits a smaller malloc chunk.
  std::uint16_t sb_bytes_ = 0;
  std::uint8_t utf8_due_ = 0;
  char reply_[3] = {};
  char byte_[2] = {};
};

template <class OnData, class OnReply>
void telnet_decoder::feed(std::string_view bytes, OnData&& on_data, OnReply&& on_reply) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (state_ == state::data) {
      // The common case, no command at all, passes through without a copy.
      const void* found = std::memchr(bytes.data() + i, telnet::iac, bytes.size() - i);
      const std::size_t end =
          found ? static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data()) : bytes.size();
      if (end > i) {
        track_utf8(bytes.substr(i, end - i));
        if (!on_data(bytes.substr(i, end - i))) return;
      }
      if (!found) return;
      state_ = state::iac;
      i = end + 1;
      continue;
    }
    const step_result r = step(static_cast<unsigned char>(bytes[i++]));
    if (!r.reply.empty()) on_reply(r.reply);
    if (!r.data.empty() && !on_data(r.data)) return;
  }
}

}  // namespace chatgate::protocol
