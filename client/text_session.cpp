#include "client/text_session.hpp"

#include <chrono>

#include "protocol/names.hpp"
#include "protocol/text_command.hpp"
#include "protocol/text_sanitizer.hpp"

namespace chatgate::client {
namespace {

// A UDP peer says hello with an empty datagram (it carries no line, so it
// costs no rate token) and repeats it while nothing comes back; later it
// keeps the server from forgetting an idle peer (300 s by default).
constexpr auto udp_hello_every = std::chrono::seconds(1);
constexpr auto udp_keepalive_every = std::chrono::seconds(60);
// Stop reading a pipe while this many lines wait for the rate limit.
constexpr std::size_t max_waiting_lines = 64;
constexpr auto slow_down_pause = std::chrono::seconds(1);
// Lines typed while there is no connection, kept for the next one.
constexpr std::size_t max_held_lines = 100;
// Room lines remembered to recognise a history replayed after a reconnect,
// and how long after the rejoin such a replay is expected.
constexpr std::size_t max_shown_lines = 200;
constexpr auto replay_window = std::chrono::milliseconds(1500);

constexpr std::string_view welcome_head = "* welcome ";
constexpr std::string_view welcome_mid = ", you are in #";
// SPEC 9: a UDP peer proves its address by sending the code back.
constexpr std::string_view ok_head = "* send /ok ";
constexpr std::string_view ok_tail = " to receive everything";
constexpr std::string_view ok_confirmed = "* validated, you receive everything now";

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool starts_with(std::string_view s, std::string_view head) { return s.substr(0, head.size()) == head; }

// "* welcome NICK, you are in #ROOM. /help lists commands" -> NICK, ROOM.
bool parse_welcome(const std::string& line, std::string& nick, std::string& room) {
  if (!starts_with(line, welcome_head)) return false;
  const std::size_t mid = line.find(welcome_mid);
  if (mid == std::string::npos) return false;
  const std::size_t room_at = mid + welcome_mid.size();
  const std::size_t dot = line.find('.', room_at);
  if (dot == std::string::npos) return false;
  nick = line.substr(welcome_head.size(), mid - welcome_head.size());
  room = line.substr(room_at, dot - room_at);
  return true;
}

}  // namespace

text_session::text_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : session(io, con, std::move(l), opt),
      framing_(opt.to.kind),
      sender_(io, opt.rate, [this](std::string line) { link_->send(framing_.encode(std::move(line))); }),
      hello_timer_(io),
      retry_timer_(io),
      nick_timer_(io),
      replay_timer_(io),
      wanted_nick_(opt.nick),
      wanted_room_(protocol::normalize_room(opt.room).value_or("")) {
  sender_.on_drained([this] { on_drained(); });
}

void text_session::on_open() {
  // A new link starts with no partial line (not reset when the last one was
  // lost: that may happen in the middle of decoding its bytes).
  framing_ = framing(opt_.to.kind);
  phase_ = phase::welcoming;
  arm_deadline("no welcome from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s) +
               " (is it a chatgate chat port?)");
  if (opt_.to.kind == transport::udp) do_udp_hello();
  // Before anything else: with --require-auth nothing else is answered.
  if (!opt_.token.empty()) {
    auth_pending_ = true;
    sender_.push("/auth " + opt_.token);
  }
}

void text_session::do_udp_hello() {
  link_->send({});
  schedule_udp_hello();
}

// Every second until the welcome, then once a minute.
void text_session::schedule_udp_hello() {
  hello_timer_.expires_after(phase_ == phase::welcoming ? udp_hello_every : udp_keepalive_every);
  hello_timer_.async_wait([this](std::error_code ec) {
    if (!ec && !finished()) do_udp_hello();
  });
}

void text_session::on_data(std::string_view chunk) {
  framing_.decode(chunk, [this](std::string_view raw) {
    if (!finished() && phase_ != phase::connecting) on_line(protocol::sanitize_text(raw));
  });
}

void text_session::on_line(const std::string& line) {
  // UDP: the code may come before the welcome (--require-auth).
  if (opt_.to.kind == transport::udp && starts_with(line, ok_head) && line.size() > ok_head.size() + ok_tail.size() &&
      line.compare(line.size() - ok_tail.size(), ok_tail.size(), ok_tail) == 0) {
    // Validate at once, so this peer gets everything (history, notices);
    // not after /quit, which would make the server a new peer.
    if (phase_ == phase::quitting) return;
    ok_sent_ = true;
    sender_.push("/ok " + line.substr(ok_head.size(), line.size() - ok_head.size() - ok_tail.size()));
    if (phase_ == phase::setting_up && expected_ == ok_head) expected_ = std::string(ok_confirmed);
    return;
  }
  if (line == ok_confirmed) validated_ = true;
  if (auth_pending_ && on_auth_answer(line)) return;
  if (phase_ == phase::welcoming) return on_welcome(line);
  // UDP: the answer to /ok when every slot is taken.
  if (line == "! server full") {
    console_.print(line);
    return finish(1, "the server is full");
  }
  if (line == "* server shutting down") {
    // UDP has no connection to lose: this line is all we get.
    console_.print(line);
    return connection_lost("the server is shutting down");
  }
  if (phase_ == phase::quitting && line == "* bye") {
    console_.print(line);
    const std::size_t refused = refused_ + console_.dropped_lines();
    if (refused > 0 && !console_.interactive())
      return finish(1, "the server refused " + std::to_string(refused) + " line(s)");
    return finish(0);
  }
  if (quiet(line) || replayed(line)) return;
  console_.print(line);
  remember(line);
  track(line);
  if (phase_ == phase::setting_up) return on_setup_answer(line);
  if (starts_with(line, "! ")) ++refused_;
  if (line == "! slow down") on_slow_down();
}

// While --room (or a reconnect) takes us out of the room the server put us
// in, that room's history and notices are not what the user asked for.
bool text_session::quiet(const std::string& line) const {
  if (quiet_room_.empty()) return false;
  if (starts_with(line, "[" + quiet_room_ + "] ")) return true;
  if (!starts_with(line, "* ")) return false;
  if (starts_with(line, "* topic of #" + quiet_room_ + ":") ||
      starts_with(line, "* topic of #" + quiet_room_ + " cleared") || line == "* no topic in #" + quiet_room_)
    return true;
  if (starts_with(line, "* " + nick_ + " ")) return false;  // our own (a setup answer)
  const std::string joined = " joined #" + quiet_room_;
  const std::string left = " left #" + quiet_room_;
  auto ends_with = [&](const std::string& tail) {
    return line.size() >= tail.size() && line.compare(line.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with(joined) || ends_with(left);
}

// After a reconnect the server replays the room's recent lines: those
// shown before are skipped, up to the first one that is new (a history is
// oldest first, so everything after it is new too).
bool text_session::replayed(const std::string& line) {
  if (!replaying_ || !starts_with(line, "[" + wanted_room_ + "] ")) return false;
  if (auto it = replay_.find(line); it != replay_.end()) {
    replay_.erase(it);
    return true;
  }
  replaying_ = false;
  replay_.clear();
  return false;
}

void text_session::remember(std::string line) {
  if (room_.empty() || !starts_with(line, "[" + room_ + "] ")) return;
  shown_.push_back(std::move(line));
  if (shown_.size() > max_shown_lines) shown_.pop_front();
}

// Our pacing is faster than the server allows: give it a rest. The refused
// line is lost (text has no way to tell which one it was), but /quit must
// get through.
void text_session::on_slow_down() {
  sender_.pause(slow_down_pause);
  if (phase_ != phase::quitting) return;
  retry_timer_.expires_after(slow_down_pause + slow_down_pause / 2);
  retry_timer_.async_wait([this](std::error_code ec) {
    if (!ec && !finished()) sender_.push("/quit");
  });
}

void text_session::on_welcome(const std::string& line) {
  // After a reconnect the session says so itself, and the room's history
  // that follows may repeat what was shown.
  if (!reconnecting()) console_.print(line);
  if (reconnecting()) {
    replay_ = std::unordered_multiset<std::string>(shown_.begin(), shown_.end());
    replaying_ = true;
  }
  if (line == "! server full") return connection_lost("the server is full");
  if (!parse_welcome(line, nick_, room_)) return;
  phase_ = phase::setting_up;
  // --require-auth: the welcome is the answer to `/auth`.
  if (auth_pending_ && protocol::fold_nick(nick_) == protocol::fold_nick(opt_.token_nick)) auth_pending_ = false;
  if (opt_.to.kind == transport::udp) schedule_udp_hello();
  // With a token the nick is the token's.
  if (!wanted_nick_.empty() && opt_.token.empty()) setup_.push_back(step::nick);
  if (!wanted_room_.empty()) setup_.push_back(step::room);
  if (!wanted_room_.empty() && wanted_room_ != room_) quiet_room_ = room_;
  // UDP: the `/ok` line comes next (or came); the setup goes on once it is
  // answered.
  if (opt_.to.kind == transport::udp && !validated_) {
    expected_ = std::string(ok_sent_ ? ok_confirmed : ok_head);
    return;
  }
  next_setup_step();
}

// --token: a refusal ends the session (a script must not go on as a
// guest); the rename to the token's nick lets the setup go on. True when
// the line is done with.
bool text_session::on_auth_answer(const std::string& line) {
  if (starts_with(line, "! bad token: ") || starts_with(line, "! nick taken: ")) {
    console_.print(line);
    finish(1, "the server refused the token: " + line.substr(2));
    return true;
  }
  if (line != "* " + nick_ + " is now known as " + opt_.token_nick || phase_ == phase::welcoming) return false;
  auth_pending_ = false;
  console_.print(line);
  track(line);
  if (phase_ == phase::setting_up && expected_.empty()) next_setup_step();
  return true;
}

void text_session::next_setup_step() {
  expected_.clear();
  if (auth_pending_) return;  // on_auth_answer comes back here
  while (expected_.empty() && !setup_.empty()) {
    const step s = setup_.front();
    setup_.pop_front();
    // Ask only for a change: the server confirms changes, not no-ops.
    if (s == step::nick && wanted_nick_ != nick_) {
      expected_ = "* " + nick_ + " is now known as " + wanted_nick_;
      sender_.push("/nick " + wanted_nick_);
    } else if (s == step::room && wanted_room_ != room_) {
      expected_ = "* " + nick_ + " joined #" + wanted_room_;
      sender_.push("/join " + wanted_room_);
    }
  }
  if (expected_.empty()) setup_done();
}

void text_session::setup_done() {
  phase_ = phase::chatting;
  nick_retries_ = 0;
  quiet_room_.clear();
  disarm_deadline();
  update_prompt();
  connected(nick_ + " in #" + room_);
  if (chat_started_) {
    replay_timer_.expires_after(replay_window);
    replay_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      replaying_ = false;
      replay_.clear();
    });
    // Back after a reconnect: what was typed meanwhile goes out now.
    while (!held_.empty()) {
      send_line(std::move(held_.front()));
      held_.pop_front();
    }
    return maybe_quit();
  }
  chat_started_ = true;
  if (input_ended_) {
    // Interrupted while setting up: quit now.
    input_ended_ = false;
    return end_input();
  }
  console_.start([this](std::string line) { on_input(std::move(line)); }, [this] { end_input(); });
}

void text_session::on_setup_answer(const std::string& line) {
  if (line == expected_) return next_setup_step();
  if (expected_ == ok_head) return next_setup_step();  // a server without `/ok`
  if (!starts_with(line, "! ")) return;
  if (starts_with(line, "! nick taken: ") && reconnecting() && nick_retries_ < max_nick_retries) {
    ++nick_retries_;
    expected_.clear();
    setup_.push_front(step::nick);
    notice("the nick " + wanted_nick_ + " is still taken (by our old connection?); asking again in " +
           describe_seconds(nick_retry_every.count()));
    nick_timer_.expires_after(nick_retry_every);
    nick_timer_.async_wait([this](std::error_code ec) {
      if (!ec && !finished() && phase_ == phase::setting_up) next_setup_step();
    });
    return;
  }
  // Refused: a script stops here rather than post as someone else or elsewhere;
  // a person reads the error and carries on.
  if (!console_.interactive()) return finish(1, "the server refused the start: " + line.substr(2));
  next_setup_step();
}

void text_session::on_input(std::string line) {
  if (input_ended_) return;
  const std::string word = trim(line);
  if (word == "exit" || word == "bye") return end_input();
  if (line.empty()) return;
  if (auto request = protocol::parse_text_line(line)) {
    if (std::holds_alternative<protocol::req::quit>(request->body)) return end_input();
    // The session reads text; JSON is what --json is for.
    if (std::holds_alternative<protocol::req::json_mode>(request->body)) {
      ++refused_;
      return console_.print("! start chatgate-client with --json to speak JSON");
    }
  }
  if (phase_ != phase::chatting) {
    // No connection: the line waits for the next one.
    if (held_.size() >= max_held_lines) {
      ++refused_;
      return console_.print("! not connected; " + std::to_string(max_held_lines) +
                            " lines wait already, this one is dropped");
    }
    held_.push_back(std::move(line));
    if (held_.size() >= max_waiting_lines) console_.pause();
    return;
  }
  send_line(std::move(line));
  if (sender_.pending() >= max_waiting_lines) console_.pause();
}

// The server sends a text sender no copy of a direct message: show it as
// sent ("-> *bob* hi"); a refusal ("! no such nick: bob") follows it.
void text_session::send_line(std::string line) {
  const auto request = protocol::parse_text_line(line);
  const auto* say = request ? std::get_if<protocol::req::say>(&request->body) : nullptr;
  if (say && !say->to.empty()) {
    console_.print(protocol::sanitize_text("-> *" + say->to + "* " + say->text));
  } else if (say && !room_.empty()) {
    // Our own messages come back in a replayed history as others see them.
    remember(protocol::sanitize_text(say->me ? "[" + room_ + "] * " + nick_ + " " + say->text
                                             : "[" + room_ + "] " + nick_ + ": " + say->text));
  }
  sender_.push(std::move(line));
}

void text_session::end_input() {
  if (input_ended_ || finished()) return;
  input_ended_ = true;
  input_finished();
  if (!chat_started_) {
    if (phase_ == phase::setting_up) return;  // quits once the setup is through
    return finish(1, "interrupted before the server said welcome");
  }
  if (phase_ != phase::chatting && phase_ != phase::quitting) {
    // No connection. A person leaves now; a script waits for a reconnect
    // (within --timeout) to deliver what it typed.
    if (!console_.interactive()) return;
    if (held_.empty()) return finish(0);
    return finish(1, std::to_string(held_.size()) + " line(s) not sent: no connection");
  }
  maybe_quit();
}

void text_session::on_drained() {
  console_.resume();
  maybe_quit();
}

// Lines go out in order and the server answers in order: its "* bye" comes
// after everything sent before /quit has been handled.
void text_session::maybe_quit() {
  if (!input_ended_ || phase_ != phase::chatting || sender_.pending() > 0) return;
  phase_ = phase::quitting;
  arm_deadline("the server did not answer /quit within " + describe_seconds(opt_.timeout_s));
  sender_.push("/quit");
}

void text_session::on_link_closed(const std::string& why) {
  connection_lost(why.empty() ? "the server closed the connection" : why);
}

// The link is gone and a new one is on its way: lines not sent yet wait
// for it, and the setup will bring back this nick and room.
void text_session::on_offline() {
  const bool was_chatting = phase_ == phase::chatting || phase_ == phase::quitting;
  std::deque<std::string> unsent = sender_.take_queue();
  if (was_chatting) {
    for (auto it = unsent.rbegin(); it != unsent.rend(); ++it)
      if (*it != "/quit") held_.push_front(std::move(*it));
  }
  hello_timer_.cancel();
  retry_timer_.cancel();
  nick_timer_.cancel();
  nick_retries_ = 0;
  replay_timer_.cancel();
  replaying_ = false;
  replay_.clear();
  setup_.clear();
  expected_.clear();
  quiet_room_.clear();
  auth_pending_ = false;
  ok_sent_ = false;
  validated_ = false;
  if (!nick_.empty()) wanted_nick_ = nick_;
  if (!room_.empty()) wanted_room_ = room_;
  phase_ = phase::connecting;
  if (!room_.empty()) console_.set_prompt("(offline) #" + room_ + "> ");
}

// Follows our own nick and room in what the server says.
void text_session::track(const std::string& line) {
  const std::string self = "* " + nick_;
  if (starts_with(line, self + " is now known as ")) {
    nick_ = line.substr(self.size() + std::string_view(" is now known as ").size());
  } else if (starts_with(line, self + " joined #")) {
    std::string room = line.substr(self.size() + std::string_view(" joined #").size());
    if (room != room_) shown_.clear();
    room_ = std::move(room);
  } else {
    return;
  }
  update_prompt();
}

void text_session::update_prompt() { console_.set_prompt("#" + room_ + "> "); }

}  // namespace chatgate::client
