// One WebSocket chat connection after its opening handshake: websocketpp's
// frame processor in, pre-built shared frames out (SPEC 4 over RFC 6455).
#pragma once

#include <string_view>

#include "gateway/transport/stream_session.hpp"
#include "gateway/transport/ws_config.hpp"

namespace chatgate {

class ws_session final : public stream_session {
 public:
  ws_session(asio::ip::tcp::socket&& socket, session_context& ctx, std::string peer,
             ws_shared& shared);
  // WSS: the TLS stream websocketpp did the handshake on.
  ws_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx,
             std::string peer, ws_shared& shared);

  // `token`: from `?token=` (may be empty).
  void start(std::string token = {}) { begin(protocol::via::ws, /*json=*/true, std::move(token)); }

  // The server is going away (or the client said quit): close frame 1001.
  void close() override;
  wire json_wire() const override { return wire::ws_frames; }

 private:
  void on_bytes(char* data, std::size_t size) override;
  void on_end_of_input() override { stop(nullptr); }
  void on_message(const ws_message_ptr& msg);
  void on_close_frame(const std::string& payload);
  void fail(const std::error_code& ec);
  // Sends a close frame and closes once it is written.
  void send_close(websocketpp::close::status::value code, const std::string& reason);

  // The frame processor (168 bytes), made on the first byte of a frame and
  // dropped between messages: see ws_frames.
  ws_frames& frames();

  ws_shared& shared_;
  std::unique_ptr<ws_frames> frames_;
};

}  // namespace chatgate
