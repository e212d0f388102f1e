#include "client/json_session.hpp"

#include <algorithm>
#include <chrono>

#include <asio/post.hpp>

#include "client/render.hpp"
#include "client/request_json.hpp"
#include "protocol/names.hpp"
#include "protocol/text_command.hpp"
#include "protocol/text_sanitizer.hpp"

namespace chatgate::client {
namespace {

namespace req = protocol::req;

constexpr int max_retries = 10;
constexpr auto slow_down_pause = std::chrono::seconds(1);
// Lines typed while there is no connection, kept for the next one.
constexpr std::size_t max_typed_offline = 100;

const char* const help_text[] = {
    "* commands:",
    "* /nick NAME       change your nick",
    "* /join ROOM       go to ROOM (its topic and recent messages follow)",
    "* /leave           go back to the default room (also /part)",
    "* /msg NICK TEXT   send TEXT to NICK alone",
    "* /topic           show the topic of this room",
    "* /topic TEXT      set the topic of this room",
    "* /rooms           list the rooms and their member counts",
    "* /who             list the members of this room and how they are connected",
    "* /me TEXT         send an action",
    "* /quit            leave (so do exit, bye and Ctrl-D)",
    "* anything else is a message to your room; start it with // to send a leading /",
};

std::string field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class T>
T number(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<T>() : T{};
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

json_session::json_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : session(io, con, std::move(l), opt),
      framing_(opt.to.kind),
      sender_(io, opt.rate, [this](std::string frame) { link_->send(framing_.encode(std::move(frame))); }),
      wanted_nick_(opt.nick),
      wanted_room_(protocol::normalize_room(opt.room).value_or("")),
      nick_timer_(io) {
  sender_.on_drained([this] { maybe_end(); });
}

void json_session::on_open() {
  // A new link starts with no partial line (not reset when the last one was
  // lost: that may happen in the middle of decoding its bytes).
  framing_ = framing(opt_.to.kind);
  phase_ = phase::welcoming;
  arm_deadline("no welcome from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s) +
               " (is it a chatgate chat port?)");
  // Over TCP the server speaks text until asked for JSON: a first line
  // that is JSON asks for it (SPEC 3), and with --token that line is the
  // `auth`, as --require-auth wants it before anything else. A WebSocket
  // carries the token in its URL.
  if (opt_.to.kind != transport::tcp) return;
  if (opt_.token.empty()) return link_->send("/json\n");
  send_json({{"type", "auth"}, {"token", opt_.token}}, kind::auth, /*setup=*/true);
}

void json_session::on_data(std::string_view chunk) {
  framing_.decode(chunk, [this](std::string_view frame) {
    if (!finished() && phase_ != phase::connecting) on_frame(frame);
  });
}

void json_session::on_frame(std::string_view frame) {
  const json event = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object()) {
    // The text welcome and history a TCP client gets before /json.
    if (phase_ == phase::welcoming && opt_.to.kind == transport::tcp) return;
    console_.print(protocol::sanitize_text(frame));
    return;
  }
  if (opt_.json) console_.print(protocol::sanitize_text(frame));
  on_event(event);
}

void json_session::on_event(const json& event) {
  const std::string type = field(event, "type");
  // A token in the URL refused (without --require-auth the server goes on
  // with a guest): a script must not chat as someone else.
  if (type == "error" && field(event, "code") == "bad_token" && !opt_.token.empty() && !event.contains("ref"))
    return token_refused(event);
  if (type == "welcome" && phase_ == phase::welcoming) return on_welcome(event);
  if (type == "bye") {
    show(event);
    return connection_lost("the server is shutting down");
  }
  if (type == "nick" && field(event, "old") == nick_) nick_ = field(event, "nick");
  bool visible = true;
  bool answered = false;
  if (auto ref = event.find("ref"); ref != event.end() && pending_.count(ref->dump())) {
    visible = on_answer(event, ref->dump());
    answered = true;
  }
  if (finished()) return;
  if (visible)
    show(event);
  else if (type == "message")
    record(event);  // our own message: known, so a later history does not show it again
  if (phase_ == phase::setting_up && !setup_pending()) setup_done();
  // After the answer has been printed, the next typed line.
  if (answered && pending_.empty()) asio::post(io_, [this] { next_line(); });
  maybe_end();
}

void json_session::on_welcome(const json& event) {
  nick_ = field(event, "nick");
  room_.clear();
  auto rooms = event.find("rooms");
  if (rooms != event.end() && rooms->is_array() && !rooms->empty() && rooms->front().is_string())
    room_ = rooms->front().get<std::string>();
  default_room_ = room_;
  // After a reconnect the session says so itself.
  if (!reconnecting()) show(event);
  if (seen_.room.empty()) seen_.room = room_;
  phase_ = phase::setting_up;
  // --require-auth over TCP: this welcome, under the token's nick, answers `auth`.
  if (protocol::fold_nick(nick_) == protocol::fold_nick(opt_.token_nick))
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if (it->second.what == kind::auth) {
        pending_.erase(it);
        break;
      }
  // With a token the nick is the token's.
  if (!wanted_nick_.empty() && wanted_nick_ != nick_ && opt_.token.empty())
    send(req::nick{wanted_nick_}, kind::other, true);
  if (!wanted_room_.empty() && wanted_room_ != room_) {
    // What the server says about the room it put us in is not what was asked for.
    muted_.insert(room_);
    json join = {{"type", "join"}, {"room", wanted_room_}};
    kind what = kind::join;
    if (seen_.any && seen_.room == wanted_room_) {
      // Back after a reconnect: one before the last id seen, so that the
      // answer proves the server still has what we saw (docs/web.md).
      join["since"] = seen_.last_id - 1;
      what = kind::rejoin;
    }
    send_json(std::move(join), what, true);
  }
  if (!setup_pending()) setup_done();
}

// Acts on the direct answer to one of our requests; says whether a text
// user would see it.
bool json_session::on_answer(const json& event, const std::string& key) {
  const std::string type = field(event, "type");
  auto it = pending_.find(key);
  request& r = it->second;
  const bool back_in_room = r.what == kind::rejoin || r.what == kind::resync;
  // A join is answered by joined, the topic, then the history that ends it.
  if ((r.what == kind::join || back_in_room) && (type == "joined" || type == "topic")) return !back_in_room;
  if (type == "error") {
    if (field(event, "code") == "rate_limited" && r.retries < max_retries) {
      // Dropped by the server's rate limit: send it again a little later.
      ++r.retries;
      sender_.pause(slow_down_pause);
      sender_.push_front(r.frame);
      return false;
    }
    if (r.what == kind::auth) {
      token_refused(event);
      return false;
    }
    const bool setup = r.setup;
    if (setup && reconnecting() && field(event, "code") == "nick_taken" && nick_retries_ < max_nick_retries) {
      pending_.erase(it);
      retry_nick();
      return true;
    }
    pending_.erase(it);
    ++refused_;
    // A script stops rather than post as someone else or elsewhere.
    if (setup && !console_.interactive())
      finish(1, "the server refused the start: " + field(event, "message"));
    return true;
  }
  const request done = std::move(it->second);
  pending_.erase(it);
  if (type == "history") return on_history_answer(done, event);
  if (done.what == kind::leave && type == "left") {
    // Like a text client: /leave goes back to the default room.
    room_.clear();
    send(req::join{default_room_, std::nullopt}, kind::join);
    return true;
  }
  // A text sender does not see its own message, nor leaving its old room.
  if (done.what == kind::say && type == "message") return false;
  if (done.what == kind::leave_old && type == "left") {
    muted_.erase(field(event, "room"));
    return false;
  }
  return true;
}

bool json_session::on_history_answer(const request& done, const json& event) {
  const std::string room = field(event, "room");
  if (done.what == kind::rejoin && !proves_continuity(event)) {
    // The last message we saw is not there: the server restarted and
    // numbers from 1 again. Ask for all it has; what we showed is dropped.
    send_json({{"type", "join"}, {"room", room}}, kind::resync, true);
    return false;
  }
  const std::string before = std::exchange(room_, room);
  if (done.what == kind::join && seen_.room != room) {
    seen_ = seen_log{};
    seen_.room = room;
  }
  update_prompt();
  // Like a text client: one room at a time, so leave the one before.
  if (!before.empty() && before != room_) {
    muted_.insert(before);
    send(req::leave{before}, kind::leave_old);
  }
  return true;
}

void json_session::token_refused(const json& error) {
  show(error);
  finish(1, "the server refused the token: " + field(error, "message"));
}

// After a reconnect our old connection may still hold the nick: ask again
// in a moment, and stay in the setup meanwhile.
void json_session::retry_nick() {
  ++nick_retries_;
  nick_retry_waiting_ = true;
  notice("the nick " + wanted_nick_ + " is still taken (by our old connection?); asking again in " +
         describe_seconds(nick_retry_every.count()));
  nick_timer_.expires_after(nick_retry_every);
  nick_timer_.async_wait([this](std::error_code ec) {
    if (ec || finished() || phase_ != phase::setting_up) return;
    nick_retry_waiting_ = false;
    send(req::nick{wanted_nick_}, kind::other, true);
  });
}

bool json_session::setup_pending() const {
  if (nick_retry_waiting_) return true;
  return std::any_of(pending_.begin(), pending_.end(), [](const auto& p) { return p.second.setup; });
}

void json_session::setup_done() {
  phase_ = phase::chatting;
  nick_retries_ = 0;
  disarm_deadline();
  update_prompt();
  connected(nick_ + " in #" + room_);
  if (chat_started_) {
    // Back after a reconnect: what was typed meanwhile goes out now.
    next_line();
    return maybe_end();
  }
  chat_started_ = true;
  if (input_ended_) {
    // Interrupted while setting up: end now.
    input_ended_ = false;
    return end_input();
  }
  console_.start([this](std::string line) { on_input(std::move(line)); }, [this] { on_input_end(); });
}

void json_session::on_input(std::string line) {
  if (input_ended_) return;
  if (phase_ != phase::chatting && typed_.size() >= max_typed_offline) {
    ++refused_;
    return console_.print("! not connected; " + std::to_string(max_typed_offline) +
                          " lines wait already, this one is dropped");
  }
  typed_.push_back(std::move(line));
  // A pipe waits while lines are queued; a terminal keeps reading keys.
  console_.pause();
  next_line();
}

void json_session::on_input_end() {
  input_over_ = true;
  next_line();
}

// Handles typed lines while connected and nothing is waiting for an answer.
void json_session::next_line() {
  while (phase_ == phase::chatting && pending_.empty() && !typed_.empty() && !input_ended_ && !finished()) {
    const std::string line = std::move(typed_.front());
    typed_.pop_front();
    handle_line(line);
  }
  if (input_ended_ || finished() || !typed_.empty()) return;
  if (input_over_) return end_input();
  console_.resume();
}

void json_session::handle_line(const std::string& line) {
  const std::string word = trim(line);
  if (word == "exit" || word == "bye") return end_input();
  if (line.empty()) return;
  if (opt_.json && word.front() == '{') return send_raw(word);
  auto parsed = protocol::parse_text_line(line);
  if (!parsed) return;
  auto& body = parsed->body;
  if (std::holds_alternative<req::quit>(body)) return end_input();
  if (std::holds_alternative<req::help>(body)) return print_help();
  if (auto* bad = std::get_if<req::invalid>(&body)) return show_local_error(bad->message);
  if (std::holds_alternative<req::json_mode>(body))
    return show_local_error("this connection speaks JSON already");
  if (auto* l = std::get_if<req::leave>(&body)) return leave(l->room, line);
  const auto* say = std::get_if<req::say>(&body);
  const kind what = say ? (say->to.empty() ? kind::say : kind::direct)
                        : std::holds_alternative<req::join>(body) ? kind::join : kind::other;
  send(body, what, false, line);
}

// /leave (or /part) as a text client has it: back to the default room.
void json_session::leave(const std::string& named, const std::string& line) {
  if (!named.empty() && protocol::normalize_room(named).value_or("") != room_) {
    // The same answers a text client gets from the server.
    const auto name = protocol::normalize_room(named);
    return show_local_error(name ? "not in room: " + *name : "bad room: " + named);
  }
  if (room_ == default_room_) return show_local_error("you are in the default room #" + room_);
  send(req::leave{room_}, kind::leave, false, line);
}

void json_session::send(const protocol::request_body& body, kind what, bool setup, std::string line) {
  const std::uint64_t ref = next_ref_++;
  auto frame = encode_request(body, room_, ref);
  if (!frame) return;
  pending_[std::to_string(ref)] = request{*frame, what, setup, 0, std::move(line)};
  sender_.push(std::move(*frame));
}

void json_session::send_json(json request_object, kind what, bool setup, std::string line) {
  const std::uint64_t ref = next_ref_++;
  request_object["ref"] = ref;
  std::string frame = request_object.dump(-1, ' ', false, json::error_handler_t::replace);
  pending_[std::to_string(ref)] = request{frame, what, setup, 0, std::move(line)};
  sender_.push(std::move(frame));
}

// --json: a typed JSON object goes out as it is, with a ref to wait for.
void json_session::send_raw(const std::string& line) {
  json request_object = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request_object.is_discarded() || !request_object.is_object())
    return show_local_error("not a JSON object: " + line);
  auto ref = request_object.find("ref");
  if (ref == request_object.end())
    request_object["ref"] = next_ref_++;
  else if (!ref->is_string() && !ref->is_number())
    return show_local_error("ref must be a string or a number");
  std::string frame = request_object.dump(-1, ' ', false, json::error_handler_t::replace);
  pending_[request_object["ref"].dump()] = request{frame, kind::other, false, 0, line};
  sender_.push(std::move(frame));
}

void json_session::end_input() {
  if (input_ended_ || finished()) return;
  input_ended_ = true;
  typed_.clear();
  input_finished();
  if (!chat_started_) {
    if (phase_ == phase::setting_up) return;  // ends once the setup is through
    return finish(1, "interrupted before the server said welcome");
  }
  // No connection, and nothing of ours waits for an answer (a lost link
  // forgets its requests): done.
  if (phase_ != phase::chatting) return finish_done();
  maybe_end();
}

// Every request has been answered.
void json_session::maybe_end() {
  if (!input_ended_ || phase_ != phase::chatting || sender_.pending() > 0) return;
  if (!pending_.empty()) {
    // Everything is sent: from now on the answers have --timeout to come.
    if (!waiting_for_answers_)
      arm_deadline("the server did not answer everything within " + describe_seconds(opt_.timeout_s));
    waiting_for_answers_ = true;
    return;
  }
  finish_done();
}

void json_session::finish_done() {
  const std::size_t refused = refused_ + console_.dropped_lines();
  if (refused > 0 && !console_.interactive())
    return finish(1, "the server refused " + std::to_string(refused) + " line(s)");
  finish(0);
}

void json_session::on_link_closed(const std::string& why) {
  connection_lost(why.empty() ? "the server closed the connection" : why);
}

// The link is gone and a new one is on its way: requests in flight are
// forgotten (a line that was not confirmed says so), typed lines wait, and
// the setup will bring back this nick and room.
void json_session::on_offline() {
  for (const auto& [ref, r] : pending_) {
    if (r.setup || r.line.empty()) continue;
    ++refused_;
    console_.print(protocol::sanitize_text("! connection lost before the server answered: " + r.line));
  }
  pending_.clear();
  sender_.take_queue();
  nick_timer_.cancel();
  nick_retry_waiting_ = false;
  nick_retries_ = 0;
  muted_.clear();
  waiting_for_answers_ = false;
  if (!nick_.empty()) wanted_nick_ = nick_;
  if (!room_.empty()) wanted_room_ = room_;
  phase_ = phase::connecting;
  if (!room_.empty()) console_.set_prompt("(offline) #" + room_ + "> ");
}

// Notes a message of our room; false when it was known already.
bool json_session::record(const json& message) {
  if (field(message, "room") != seen_.room || seen_.room.empty()) return true;
  const auto id = number<std::uint64_t>(message, "id");
  const auto ts = number<std::int64_t>(message, "ts");
  // Histories and live messages come oldest first: the last one noted is
  // the newest.
  seen_.last_id = id;
  seen_.last_ts = ts;
  seen_.any = true;
  std::string key = std::to_string(id) + "@" + std::to_string(ts);
  if (!seen_.keys.insert(key).second) return false;
  seen_.order.push_back(std::move(key));
  if (seen_.order.size() > seen_log::max_keys) {
    seen_.keys.erase(seen_.order.front());
    seen_.order.pop_front();
  }
  return true;
}

// The answer to a rejoin holds the last message we saw (same id, same ts).
bool json_session::proves_continuity(const json& history) const {
  auto messages = history.find("messages");
  if (messages == history.end() || !messages->is_array()) return false;
  return std::any_of(messages->begin(), messages->end(), [this](const json& m) {
    return m.is_object() && number<std::uint64_t>(m, "id") == seen_.last_id &&
           number<std::int64_t>(m, "ts") == seen_.last_ts;
  });
}

void json_session::show(const json& event) {
  const std::string type = field(event, "type");
  const bool about_a_room = type == "message" || type == "history" || type == "joined" ||
                            type == "left" || type == "topic" || type == "presence";
  if (about_a_room && muted_.count(field(event, "room"))) return;
  if (type == "message" && !record(event)) return;
  if (type == "history") {
    // Only what was not shown before (all of it, unless we reconnected).
    json fresh = event;
    json kept = json::array();
    if (auto messages = event.find("messages"); messages != event.end() && messages->is_array())
      for (const json& m : *messages)
        if (m.is_object() && record(m)) kept.push_back(m);
    fresh["messages"] = std::move(kept);
    if (opt_.json) return;
    for (const std::string& line : render_event(fresh, nick_)) console_.print(line);
    return;
  }
  if (opt_.json) return;  // printed as it came
  for (const std::string& line : render_event(event, nick_)) console_.print(line);
}

void json_session::show_local_error(const std::string& message) {
  ++refused_;
  const json error = {{"type", "error"}, {"code", "bad_request"}, {"message", message}};
  if (opt_.json)
    console_.print(protocol::sanitize_text(error.dump(-1, ' ', false, json::error_handler_t::replace)));
  else
    show(error);
}

void json_session::print_help() {
  for (const char* line : help_text) console_.print(line);
}

void json_session::update_prompt() { console_.set_prompt("#" + room_ + "> "); }

}  // namespace chatgate::client
