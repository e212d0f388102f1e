// Echo, line by line: each input line goes to the echo server (TCP: with
// its '\n'; UDP: one datagram), and what comes back is printed.
#pragma once

#include "client/framing.hpp"
#include "client/session.hpp"

namespace chatgate::client {

class echo_session final : public session {
 public:
  echo_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt);
  void interrupt() override { end_input(); }

 private:
  void on_open() override;
  void on_data(std::string_view chunk) override;
  void on_link_closed(const std::string& why) override;

  void on_input(std::string line);
  void end_input();
  void maybe_end();

  framing framing_;
  std::size_t sent_ = 0;      // TCP: bytes; UDP: datagrams
  std::size_t received_ = 0;  // the same unit
  bool input_ended_ = false;
};

}  // namespace chatgate::client
