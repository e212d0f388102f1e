#include "protocol/telnet.hpp"

namespace chatgate::protocol {

namespace {

// The terminal special character whose key telnet sends as this command
// (default termios: ^C, ^Z, ^O, and ^\ for BRK and ABORT), or 0.
unsigned char stripped_key(unsigned char command) {
  switch (command) {
    case telnet::ip: return 0x03;
    case telnet::brk: case telnet::abort: return 0x1c;
    case telnet::susp: return 0x1a;
    case telnet::ao: return 0x0f;
    default: return 0;
  }
}

}  // namespace

void telnet_decoder::track_utf8(std::string_view data) {
  // A character is at most 4 bytes: the last 4 decide what is still due.
  if (data.size() >= 4) {
    data.remove_prefix(data.size() - 4);
    utf8_due_ = 0;
  }
  for (const char ch : data) {
    const auto b = static_cast<unsigned char>(ch);
    if (utf8_due_ > 0 && (b & 0xc0) == 0x80) {
      --utf8_due_;
    } else if (b >= 0xc2 && b <= 0xf4) {
      utf8_due_ = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    } else {
      utf8_due_ = 0;
    }
  }
}

telnet_decoder::step_result telnet_decoder::data_byte(unsigned char byte) {
  byte_[0] = static_cast<char>(byte);
  const std::string_view out(byte_, 1);
  track_utf8(out);
  return {out, {}};
}

telnet_decoder::step_result telnet_decoder::step(unsigned char byte) {
  using namespace telnet;
  switch (state_) {
    case state::data:
      break;
    case state::iac:
      state_ = state::data;
      if (byte == iac) return data_byte(iac);
      if (byte >= will && byte <= dont) {
        verb_ = byte;
        state_ = state::option;
      } else if (byte == sb) {
        sb_bytes_ = 0;
        state_ = state::sb;
      } else if (byte < eof) {
        // Not a command: a stray 0xFF from a client that is no telnet (it
        // is shown repaired, like any invalid UTF-8), then the byte.
        byte_[0] = static_cast<char>(iac);
        byte_[1] = static_cast<char>(byte);
        const std::string_view out(byte_, 2);
        track_utf8(out);
        return {out, {}};
      } else if (utf8_due_ > 0 && stripped_key(byte) != 0) {
        // telnet took a UTF-8 continuation byte for a special key.
        return data_byte(0x80 | stripped_key(byte));
      }
      // IP, AO, BRK, AYT, NOP, DM, EC, EL, GA, SE, EOF, SUSP, ABORT, EOR:
      // nothing to do.
      return {};
    case state::option: {
      state_ = state::data;
      unsigned char answer = 0;
      if (verb_ == will) answer = dont;
      if (verb_ == do_) answer = byte == timing_mark ? will : wont;
      if (answer == 0) return {};  // WONT and DONT are never answered
      reply_[0] = static_cast<char>(iac);
      reply_[1] = static_cast<char>(answer);
      reply_[2] = static_cast<char>(byte);
      return {{}, std::string_view(reply_, 3)};
    }
    case state::sb:
      if (sb_bytes_ == max_subnegotiation) {
        // No IAC SE in sight: give up skipping, this byte is data again.
        state_ = byte == iac ? state::iac : state::data;
        if (byte == iac) return {};
        return data_byte(byte);
      }
      if (byte == iac) {
        state_ = state::sb_iac;
      } else {
        ++sb_bytes_;
      }
      return {};
    case state::sb_iac:
      if (byte == se) {
        state_ = state::data;
      } else if (byte == iac) {
        ++sb_bytes_;  // an escaped 0xFF, part of the subnegotiation
        state_ = state::sb;
      } else {
        // A command inside a subnegotiation ends it (RFC 855 allows only
        // IAC IAC and IAC SE there); take the byte as that command.
        state_ = state::iac;
        return step(byte);
      }
      return {};
  }
  return {};
}

}  // namespace chatgate::protocol
