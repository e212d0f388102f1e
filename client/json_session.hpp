// Chat over the JSON protocol (WebSocket, or NDJSON over TCP with --json):
// typed commands become requests with a `ref`, events are printed as the
// lines a text client sees (or as they are, with --json).
//
// One typed line at a time: the next is sent once the server has answered
// the last (a `say` by its own message coming back), so lines keep their
// order even when the rate limit makes the client send one again, and a
// message after /join goes to the new room.
#pragma once

#include <deque>
#include <map>

#include <nlohmann/json.hpp>

#include "client/framing.hpp"
#include "client/paced_sender.hpp"
#include "client/session.hpp"
#include "protocol/request.hpp"

namespace chatgate::client {

class json_session final : public session {
 public:
  json_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt);
  void interrupt() override { end_input(); }

 private:
  using json = nlohmann::json;
  enum class phase { connecting, welcoming, setting_up, chatting };
  // What a request was for, so its answer can be acted on.
  enum class kind { say, join, leave_old, other };
  struct request {
    std::string frame;
    kind what = kind::other;
    bool setup = false;  // asked for by --nick or --room
    int retries = 0;
  };

  void on_open() override;
  void on_data(std::string_view chunk) override;
  void on_link_closed(const std::string& why) override;

  void on_frame(std::string_view frame);
  void on_event(const json& event);
  void on_welcome(const json& event);
  bool on_answer(const json& event, const std::string& key);
  void begin_chat();

  void on_input(std::string line);
  void on_input_end();
  void next_line();
  void handle_line(const std::string& line);
  void send(const protocol::request_body& body, kind what, bool setup = false);
  void send_raw(const std::string& line);
  void end_input();
  void maybe_end();
  bool setup_pending() const;

  void show(const json& event);
  void show_local_error(const std::string& message);
  void print_help();
  void update_prompt();

  framing framing_;
  paced_sender sender_;
  phase phase_ = phase::connecting;
  std::map<std::string, request> pending_;  // by the ref's JSON text
  std::uint64_t next_ref_ = 1;
  std::string nick_;
  std::string room_;  // where typed messages go
  std::deque<std::string> typed_;  // lines waiting for the answer to the one before
  std::size_t refused_ = 0;
  bool input_over_ = false;   // the console has no more lines
  bool input_ended_ = false;  // no more lines will be sent
  bool waiting_for_answers_ = false;
};

}  // namespace chatgate::client
