// Lines over a link: a TCP stream carries '\n'-ended lines, a UDP datagram
// holds one or more lines (the last may lack its '\n'), a WebSocket frame is
// one line.
#pragma once

#include <string>
#include <string_view>

#include "client/options.hpp"
#include "protocol/line_framer.hpp"

namespace chatgate::client {

class framing {
 public:
  // A line longer than this (a JSON history can be long) is dropped.
  static constexpr std::size_t max_line = 16 << 20;

  explicit framing(transport t) : kind_(t), stream_(max_line) {}

  std::string encode(std::string line) const {
    if (kind_ == transport::tcp) line.push_back('\n');
    return line;
  }

  // Calls on_line(std::string_view) for each complete line in `chunk`.
  template <class OnLine>
  void decode(std::string_view chunk, OnLine&& on_line) {
    auto each = [&](std::string_view line) {
      on_line(line);
      return true;
    };
    if (kind_ == transport::ws) {
      on_line(chunk);
    } else if (kind_ == transport::tcp) {
      stream_.feed(chunk, each, [] { return true; });
    } else {
      protocol::line_framer datagram(max_line);
      datagram.feed(chunk, each, [] { return true; });
      datagram.flush(each);
    }
  }

 private:
  transport kind_;
  protocol::line_framer stream_;
};

}  // namespace chatgate::client
