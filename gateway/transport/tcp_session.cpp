#include "gateway/transport/tcp_session.hpp"

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "protocol/json_request.hpp"
#include "protocol/proxy_header.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

// With --trust-proxy, how long a connection may stay silent before its
// PROXY header. A proxy sends it at once; bytes that stop in the middle of
// it are ended by the line idle timer like any partial line.
constexpr std::chrono::seconds proxy_header_deadline{5};

}  // namespace

tcp_session::tcp_session(asio::ip::tcp::socket socket, session_context& ctx)
    : stream_session(std::move(socket), ctx, peer_text(socket), "tcp"),
      framer_(ctx.cfg.max_message_bytes + protocol::command_slack) {}

tcp_session::tcp_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx)
    : stream_session(std::move(tls), std::move(keep), ctx, peer_text(tls->next_layer()), "tls-tcp"),
      framer_(ctx.cfg.max_message_bytes + protocol::command_slack) {}
void tcp_session::start() {
  begin(protocol::via::tcp, /*json=*/false);
  if (!ctx_.cfg.trust_proxy) return;
  timer().expires_after(proxy_header_deadline);
  timer().async_wait([self = shared_from_this(), this](std::error_code ec) {
    // Any byte re-arms the timer for the line idle time instead (aborted).
    if (ec || stopped_ || closing_ || saw_first_byte_) return;
    reject_proxy_header("(nothing within 5 s)");
  });
}

// --- input ------------------------------------------------------------------

void tcp_session::on_bytes(char* data, std::size_t size) {
  // Answers live only as long as the read: an idle connection keeps no buffer for them.
  std::string replies;
  telnet_.feed(
      std::string_view(data, size), [&](std::string_view bytes) { return on_data(bytes, replies); },
      [&](std::string_view reply) { replies.append(reply); });
  // A read full of option requests gets one buffer of answers.
  if (!replies.empty()) on_data({}, replies);
  last_byte_ = std::chrono::steady_clock::now();
  if (framer_.has_partial()) arm_idle_timer();
}

bool tcp_session::on_data(std::string_view bytes, std::string& replies) {
  // Answers go out after whatever the lines before them caused, and before
  // what the lines after them cause: telnet discards output from Ctrl-C
  // until it sees WILL TIMING-MARK.
  if (!replies.empty()) {
    deliver(std::make_shared<const std::string>(std::move(replies)));
    replies.clear();
  }
  if (closing_) return false;
  if (!saw_first_byte_ && !bytes.empty()) {
    saw_first_byte_ = true;
    // With --trust-proxy the first line is the PROXY header, checked first.
    if (bytes.front() == '{' && !ctx_.cfg.trust_proxy) ctx_.chat.switch_to_json(id_);
  }
  bool more = true;
  framer_.feed(
      bytes, [&](std::string_view line) { return more = on_line(line); },
      [&] { return more = on_too_long(); });
  return more && !closing_;
}

void tcp_session::on_end_of_input() {
  // A program that sends and then half-closes still gets its last line
  // handled and every answer written before the connection closes.
  framer_.flush([this](std::string_view line) { return on_line(line); });
  close();
}

bool tcp_session::on_line(std::string_view line) {
  if (closing_) return false;
  hub& h = ctx_.chat;
  if (ctx_.cfg.trust_proxy && !proxy_checked_) {
    proxy_checked_ = true;
    auto source = protocol::parse_proxy_v1(line);
    if (!source) return reject_proxy_header(line);
    spdlog::info("tcp {} is {} (PROXY header, client {})", peer_, *source, id_);
    peer_ = *source;
    return true;
  }
  if (!saw_first_line_) {
    proxy_checked_ = saw_first_line_ = true;
    // After a PROXY header the first byte check could not see this line.
    if (!json_ && !line.empty() && line.front() == '{') h.switch_to_json(id_);
  }
  if (json_) {
    if (line.find_first_not_of(" \t") != std::string_view::npos)
      h.handle(id_, protocol::parse_json_request(line));
  } else if (auto request = protocol::parse_text_line(line)) {
    h.handle(id_, std::move(*request));
  }
  return !closing_;
}

bool tcp_session::reject_proxy_header(std::string_view line) {
  // Behind a trusted proxy every connection starts with its header: one
  // that does not came around the proxy, or from a proxy speaking another
  // version; either way its address is unknown, so it is not served.
  spdlog::warn("tcp {} closed: first line is not a PROXY v1 header: \"{}\" (client {})", peer_,
               protocol::escape_for_log(line), id_);
  close();
  return false;
}

bool tcp_session::on_too_long() {
  if (ctx_.cfg.trust_proxy && !proxy_checked_) {
    proxy_checked_ = true;
    return reject_proxy_header("(a line over the length cap)");
  }
  ctx_.chat.handle(
      id_, protocol::request{protocol::req::invalid{protocol::error_code::too_long, "message too long"},
                             nullptr});
  return !closing_;
}

void tcp_session::arm_idle_timer() {
  timer().expires_at(last_byte_ + std::chrono::milliseconds(ctx_.cfg.line_idle_ms));
  timer().async_wait([self = shared_from_this(), this](std::error_code ec) { on_idle(ec); });
}

void tcp_session::on_idle(std::error_code ec) {
  if (ec || stopped_ || closing_) return;
  // A newer byte re-armed the timer; this wake-up is stale.
  if (std::chrono::steady_clock::now() < last_byte_ + std::chrono::milliseconds(ctx_.cfg.line_idle_ms))
    return;
  framer_.flush([this](std::string_view line) { return on_line(line); });
}

void tcp_session::use_json() {
  json_ = true;
  framer_.set_max_line(ctx_.cfg.max_frame_bytes);
}

}  // namespace chatgate
