// Chat over the text protocol (TCP or UDP): typed lines go out as they
// are, server lines are printed as they are.
#pragma once

#include <deque>
#include <unordered_set>

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
  void on_offline() override;

  void on_line(const std::string& line);
  void on_welcome(const std::string& line);
  void on_setup_answer(const std::string& line);
  bool on_auth_answer(const std::string& line);
  void next_setup_step();
  void setup_done();
  bool quiet(const std::string& line) const;
  bool replayed(const std::string& line);
  void remember(std::string line);
  void on_input(std::string line);
  void send_line(std::string line);
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
  asio::steady_timer nick_timer_;
  int nick_retries_ = 0;
  // Text lines carry no ids: the room's lines shown last, and while a
  // reconnect replays the room's history, those of them not met again.
  std::deque<std::string> shown_;
  std::unordered_multiset<std::string> replay_;
  bool replaying_ = false;
  asio::steady_timer replay_timer_;
  phase phase_ = phase::connecting;
  std::deque<step> setup_;
  std::string expected_;  // the line that confirms the setup step in flight
  std::string nick_;
  std::string room_;
  // What the setup asks for: --nick and --room, or after a reconnect the
  // nick and room the session had.
  std::string wanted_nick_;
  std::string wanted_room_;
  // The room the server put us in, whose lines are not shown while the
  // setup takes us to wanted_room_ (its history is not what was asked for).
  std::string quiet_room_;
  std::deque<std::string> held_;  // typed while there was no connection
  std::size_t refused_ = 0;
  bool chat_started_ = false;
  bool input_ended_ = false;
  // --token: `/auth` went out first on this link and is not answered yet
  // (by the welcome under its nick, or by the rename to it).
  bool auth_pending_ = false;
  // UDP: `/ok CODE` sent, and confirmed, on this link.
  bool ok_sent_ = false;
  bool validated_ = false;
};

}  // namespace chatgate::client
