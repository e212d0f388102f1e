#include "client/echo_session.hpp"

#include "protocol/text_sanitizer.hpp"

namespace chatgate::client {
namespace {

// Stop reading input while this much has not come back yet.
constexpr std::size_t max_in_flight_bytes = 256 * 1024;
constexpr std::size_t max_in_flight_datagrams = 256;

}  // namespace

echo_session::echo_session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : session(io, con, std::move(l), opt), framing_(opt.to.kind) {}

void echo_session::on_open() {
  disarm_deadline();
  console_.set_prompt("echo> ");
  console_.start([this](std::string line) { on_input(std::move(line)); }, [this] { end_input(); });
}

void echo_session::on_input(std::string line) {
  if (input_ended_) return;
  if (line == "bye") return end_input();
  const bool udp = opt_.to.kind == transport::udp;
  std::string data = framing_.encode(std::move(line));
  sent_ += udp ? 1 : data.size();
  link_->send(std::move(data));
  if (sent_ - received_ >= (udp ? max_in_flight_datagrams : max_in_flight_bytes)) console_.pause();
}

void echo_session::on_data(std::string_view chunk) {
  const bool udp = opt_.to.kind == transport::udp;
  received_ += udp ? 1 : chunk.size();
  framing_.decode(chunk, [this](std::string_view line) { console_.print(protocol::sanitize_text(line)); });
  if (udp && chunk.empty()) console_.print("");
  console_.resume();
  maybe_end();
}

void echo_session::end_input() {
  if (input_ended_ || finished()) return;
  input_ended_ = true;
  arm_deadline("the echo server did not send everything back within " + describe_seconds(opt_.timeout_s));
  maybe_end();
}

void echo_session::maybe_end() {
  if (input_ended_ && received_ >= sent_) finish(0);
}

void echo_session::on_link_closed(const std::string& why) {
  finish(1, why.empty() ? "the server closed the connection" : why);
}

}  // namespace chatgate::client
