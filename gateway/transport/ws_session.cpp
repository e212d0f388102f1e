#include "gateway/transport/ws_session.hpp"

#include <spdlog/spdlog.h>

#include "gateway/transport/ws_frame.hpp"
#include "protocol/json_request.hpp"

namespace chatgate {
namespace {

namespace close_code = websocketpp::close::status;
namespace opcode = websocketpp::frame::opcode;

shared_bytes frame_bytes(const ws_message_ptr& frame) {
  return std::make_shared<const std::string>(frame->get_header() + frame->get_payload());
}

}  // namespace

std::string ws_text_frame(std::string_view json) {
  namespace frame = websocketpp::frame;
  if (!json.empty() && json.back() == '\n') json.remove_suffix(1);
  const frame::basic_header basic(opcode::text, json.size(), /*fin=*/true, /*mask=*/false);
  std::string out = frame::prepare_header(basic, frame::extended_header(json.size()));
  out.append(json);
  return out;
}

ws_session::ws_session(asio::ip::tcp::socket&& socket, session_context& ctx, std::string peer,
                       ws_shared& shared)
    : stream_session(std::move(socket), ctx, std::move(peer), "ws"),
      shared_(shared) {}

ws_session::ws_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx,
                       std::string peer, ws_shared& shared)
    : stream_session(std::move(tls), std::move(keep), ctx, std::move(peer), "wss"),
      shared_(shared) {}

ws_frames& ws_session::frames() {
  if (!frames_) {
    frames_ = std::make_unique<ws_frames>(secure(), /*is_server=*/true, shared_.messages,
                                          shared_.rng);
    frames_->set_max_message_size(ctx_.cfg.max_frame_bytes);
  }
  return *frames_;
}

void ws_session::on_bytes(char* data, std::size_t size) {
  auto* p = reinterpret_cast<std::uint8_t*>(data);
  while (size > 0 && !closing_) {
    std::error_code ec;
    const std::size_t used = frames().consume(p, size, ec);
    if (ec) return fail(ec);
    p += used;
    size -= used;
    if (frames_->ready()) {
      on_message(frames_->get_message());
    } else if (used == 0) {
      return fail(websocketpp::processor::error::make_error_code(
          websocketpp::processor::error::general));
    }
  }
  if (frames_ && frames_->between_messages()) frames_.reset();
}

void ws_session::on_message(const ws_message_ptr& msg) {
  hub& h = ctx_.chat;
  switch (msg->get_opcode()) {
    case opcode::text:
      return h.handle(id_, protocol::parse_json_request(msg->get_payload()));
    case opcode::binary:
      return h.handle(id_, protocol::request{protocol::req::invalid{protocol::error_code::bad_request,
                                                                    "send JSON in text frames"},
                                             nullptr});
    case opcode::ping: {
      // Pongs count toward --max-queue-bytes like everything else: a client
      // that pings and never reads is a slow consumer too.
      auto pong = shared_.messages->get_message();
      frames().prepare_pong(msg->get_payload(), pong);
      return deliver(frame_bytes(pong));
    }
    case opcode::close:
      return on_close_frame(msg->get_payload());
    default:  // pong, or what the processor let through
      return;
  }
}

void ws_session::on_close_frame(const std::string& payload) {
  // Answer with the client's own code, as RFC 6455 5.5.1 asks.
  std::error_code ec;
  const auto code = websocketpp::close::extract_code(payload, ec);
  if (!ec) websocketpp::close::extract_reason(payload, ec);
  if (ec || (code != close_code::no_status && close_code::invalid(code)))
    return send_close(close_code::protocol_error, "bad close frame");
  send_close(code == close_code::no_status ? close_code::normal : code, "");
}

void ws_session::fail(const std::error_code& ec) {
  if (ec == websocketpp::processor::error::message_too_big)
    ctx_.stats.count_drop(drop_reason::frame_too_big);
  spdlog::info("ws {} protocol error: {} (client {})", peer_, ec.message(), id_);
  send_close(websocketpp::processor::error::to_ws(ec), ec.message());
}

void ws_session::close() { send_close(close_code::going_away, "server shutting down"); }

void ws_session::send_close(websocketpp::close::status::value code, const std::string& reason) {
  if (closing_ || stopped_) return;
  auto frame = shared_.messages->get_message();
  if (frames().prepare_close(code, reason.substr(0, 120), frame))
    frames().prepare_close(close_code::normal, "", frame);
  // The one frame past the queue cap: a connection closes once.
  push(frame_bytes(frame));
  finish();
}

}  // namespace chatgate
