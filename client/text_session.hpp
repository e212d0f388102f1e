// Chat over the text protocol (TCP or UDP): typed lines go out as they
// are, server lines are printed as they are.
#pragma once

#include <deque>

#include "client/framing.hpp"
#include "client/paced_sender.hpp"
#include "client/session.hpp"

namespace chatgate::client {

class text_session final : public session {
 public:
  text_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt);
  void interrupt() override { end_input(); }

 private:
  enum class phase { connecting, welcoming, setting_up, chatting, quitting };
  enum class step { nick, room };

  void on_open() override;
  void on_data(std::string_view chunk) override;
  void on_link_closed(const std::string& why) override;

  void on_line(const std::string& line);
  void on_welcome(const std::string& line);
  void on_setup_answer(const std::string& line);
  void next_setup_step();
  void on_input(std::string line);
  void end_input();
  void maybe_quit();
  void on_drained();
  void on_slow_down();
  void track(const std::string& line);
  void update_prompt();
  void do_udp_hello();
  void schedule_udp_hello();

  framing framing_;
  paced_sender sender_;
  asio::steady_timer hello_timer_;
  asio::steady_timer retry_timer_;
  phase phase_ = phase::connecting;
  std::deque<step> setup_;
  std::string expected_;  // the line that confirms the setup step in flight
  std::string nick_;
  std::string room_;
  std::size_t refused_ = 0;
  bool input_ended_ = false;
};

}  // namespace chatgate::client
