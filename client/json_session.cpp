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

const char* const help_text[] = {
    "* commands:",
    "* /nick NAME   change your nick",
    "* /join ROOM   go to ROOM (its recent messages follow)",
    "* /rooms       list the rooms and their member counts",
    "* /who         list the members of this room and how they are connected",
    "* /me TEXT     send an action",
    "* /quit        leave (so do exit, bye and Ctrl-D)",
    "* anything else is a message to your room; start it with // to send a leading /",
};

std::string field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
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
      sender_(io, opt.rate, [this](std::string frame) { link_->send(framing_.encode(std::move(frame))); }) {
  sender_.on_drained([this] { maybe_end(); });
}

void json_session::on_open() {
  phase_ = phase::welcoming;
  arm_deadline("no welcome from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s) +
               " (is it a chatgate chat port?)");
  // Over TCP the server speaks text until asked for JSON.
  if (opt_.to.kind == transport::tcp) link_->send("/json\n");
}

void json_session::on_data(std::string_view chunk) {
  framing_.decode(chunk, [this](std::string_view frame) {
    if (!finished()) on_frame(frame);
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
  if (type == "welcome" && phase_ == phase::welcoming) return on_welcome(event);
  if (type == "bye") {
    show(event);
    return finish(1, "the server is shutting down");
  }
  if (type == "nick" && field(event, "old") == nick_) nick_ = field(event, "nick");
  bool visible = true;
  bool answered = false;
  if (auto ref = event.find("ref"); ref != event.end() && pending_.count(ref->dump())) {
    visible = on_answer(event, ref->dump());
    answered = true;
  }
  if (finished()) return;
  if (visible) show(event);
  if (phase_ == phase::setting_up && !setup_pending()) begin_chat();
  // After the answer has been printed, the next typed line.
  if (answered && pending_.empty()) asio::post(io_, [this] { next_line(); });
  maybe_end();
}

void json_session::on_welcome(const json& event) {
  nick_ = field(event, "nick");
  auto rooms = event.find("rooms");
  if (rooms != event.end() && rooms->is_array() && !rooms->empty() && rooms->front().is_string())
    room_ = rooms->front().get<std::string>();
  show(event);
  phase_ = phase::setting_up;
  if (!opt_.nick.empty() && opt_.nick != nick_) send(req::nick{opt_.nick}, kind::other, true);
  if (!opt_.room.empty() && protocol::normalize_room(opt_.room).value_or("") != room_)
    send(req::join{opt_.room, std::nullopt}, kind::join, true);
  if (!setup_pending()) begin_chat();
}

// Acts on the direct answer to one of our requests; says whether a text
// user would see it.
bool json_session::on_answer(const json& event, const std::string& key) {
  const std::string type = field(event, "type");
  if (type == "joined") return true;  // the history follows and ends the join
  auto it = pending_.find(key);
  if (type == "error") {
    request& r = it->second;
    if (field(event, "code") == "rate_limited" && r.retries < max_retries) {
      // Dropped by the server's rate limit: send it again a little later.
      ++r.retries;
      sender_.pause(slow_down_pause);
      sender_.push_front(r.frame);
      return false;
    }
    const bool setup = r.setup;
    pending_.erase(it);
    ++refused_;
    // A script stops rather than post as someone else or elsewhere.
    if (setup && !console_.interactive())
      finish(1, "the server refused the start: " + field(event, "message"));
    return true;
  }
  const request done = std::move(it->second);
  pending_.erase(it);
  if (done.what == kind::join && type == "history") {
    // Like a text client: one room at a time, so leave the one before.
    const std::string before = std::exchange(room_, field(event, "room"));
    update_prompt();
    if (!before.empty() && before != room_) send(req::leave{before}, kind::leave_old);
  }
  // A text sender does not see its own message, nor leaving its old room.
  if (done.what == kind::say && type == "message") return false;
  if (done.what == kind::leave_old && type == "left") return false;
  return true;
}

bool json_session::setup_pending() const {
  return std::any_of(pending_.begin(), pending_.end(), [](const auto& p) { return p.second.setup; });
}

void json_session::begin_chat() {
  phase_ = phase::chatting;
  disarm_deadline();
  update_prompt();
  if (input_ended_) {
    // Interrupted while setting up: end now.
    input_ended_ = false;
    return end_input();
  }
  console_.start([this](std::string line) { on_input(std::move(line)); }, [this] { on_input_end(); });
}

void json_session::on_input(std::string line) {
  if (phase_ != phase::chatting || input_ended_) return;
  typed_.push_back(std::move(line));
  // A pipe waits while lines are queued; a terminal keeps reading keys.
  console_.pause();
  next_line();
}

void json_session::on_input_end() {
  input_over_ = true;
  next_line();
}

// Handles typed lines while nothing is waiting for an answer.
void json_session::next_line() {
  while (pending_.empty() && !typed_.empty() && !input_ended_ && !finished()) {
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
  const kind what = std::holds_alternative<req::say>(body) ? kind::say
                    : std::holds_alternative<req::join>(body) ? kind::join : kind::other;
  send(body, what);
}

void json_session::send(const protocol::request_body& body, kind what, bool setup) {
  const std::uint64_t ref = next_ref_++;
  auto frame = encode_request(body, room_, ref);
  if (!frame) return;
  pending_[std::to_string(ref)] = request{*frame, what, setup, 0};
  sender_.push(std::move(*frame));
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
  pending_[request_object["ref"].dump()] = request{frame, kind::other, false, 0};
  sender_.push(std::move(frame));
}

void json_session::end_input() {
  if (input_ended_ || finished()) return;
  input_ended_ = true;
  typed_.clear();
  if (phase_ == phase::setting_up) return;  // ends once the setup is through
  if (phase_ != phase::chatting) return finish(1, "interrupted before the server said welcome");
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
  const std::size_t refused = refused_ + console_.dropped_lines();
  if (refused > 0 && !console_.interactive())
    return finish(1, "the server refused " + std::to_string(refused) + " line(s)");
  finish(0);
}

void json_session::on_link_closed(const std::string& why) {
  finish(1, why.empty() ? "the server closed the connection" : why);
}

void json_session::show(const json& event) {
  if (opt_.json) return;  // printed as it came
  for (const std::string& line : render_event(event)) console_.print(line);
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
