// Chat over the JSON protocol (WebSocket, or NDJSON over TCP with --json):
// typed commands become requests with a `ref`, events are printed as the
// lines a text client sees (or as they are, with --json).
//
// One typed line at a time: the next is sent once the server has answered
// the last (a `say` by its own message coming back), so lines keep their
// order even when the rate limit makes the client send one again, and a
// message after /join goes to the new room.
//
// After a reconnect it takes the same nick and room again, the room with
// `since` as the page does, and shows each message of the room once: it
// knows them by id and ts.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <unordered_set>

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
  enum class kind {
    say,        // a message to the room (its copy is not shown)
    direct,     // /msg (its copy is shown: "-> *bob* hi")
    join,       // /join or --room: then leave the room before
    rejoin,     // back in our room after a reconnect, with since
    resync,     // the same without since: the server had restarted
    leave,      // /leave: then join the default room
    leave_old,  // leaving the room before a join (not shown)
    auth,       // --token over TCP: answered by a rename, or by the welcome
    other,
  };
  struct request {
    std::string frame;
    kind what = kind::other;
    bool setup = false;  // asked for by --nick or --room, or by a reconnect
    int retries = 0;
    std::string line;    // as typed, to say which line a lost link left unconfirmed
  };
  // The messages of the room we are in that were shown (or were our own),
  // by id and ts, so that a history after a reconnect shows only new ones.
  struct seen_log {
    static constexpr std::size_t max_keys = 1024;
    std::string room;
    std::deque<std::string> order;
    std::unordered_set<std::string> keys;
    std::uint64_t last_id = 0;
    std::int64_t last_ts = 0;
    bool any = false;
  };

  void on_open() override;
  void on_data(std::string_view chunk) override;
  void on_link_closed(const std::string& why) override;
  void on_offline() override;

  void on_frame(std::string_view frame);
  void on_event(const json& event);
  void on_welcome(const json& event);
  bool on_answer(const json& event, const std::string& key);
  bool on_history_answer(const request& done, const json& event);
  void token_refused(const json& error);
  void setup_done();

  void on_input(std::string line);
  void on_input_end();
  void next_line();
  void handle_line(const std::string& line);
  void leave(const std::string& named, const std::string& line);
  void send(const protocol::request_body& body, kind what, bool setup = false, std::string line = {});
  void send_json(json request_object, kind what, bool setup = false, std::string line = {});
  void send_raw(const std::string& line);
  void end_input();
  void maybe_end();
  void finish_done();
  bool setup_pending() const;
  void retry_nick();

  bool record(const json& message);
  bool proves_continuity(const json& history) const;
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
  std::string room_;          // where typed messages go
  std::string default_room_;  // where the server puts us on connect
  // What the setup asks for: --nick and --room, or after a reconnect the
  // nick and room the session had.
  std::string wanted_nick_;
  std::string wanted_room_;
  // Rooms we are on our way out of: their events are not shown.
  std::set<std::string> muted_;
  seen_log seen_;
  asio::steady_timer nick_timer_;
  int nick_retries_ = 0;
  bool nick_retry_waiting_ = false;
  std::deque<std::string> typed_;  // lines waiting for the answer to the one before
  std::size_t refused_ = 0;
  bool chat_started_ = false;
  bool input_over_ = false;   // the console has no more lines
  bool input_ended_ = false;  // no more lines will be sent
  bool waiting_for_answers_ = false;
};

}  // namespace chatgate::client
