// One TCP chat connection: text lines (SPEC 3), or NDJSON after `/json` or
// a first '{' (SPEC 4), with an optional PROXY v1 header first. Telnet
// commands are taken out before the line framer sees the bytes (SPEC 9).
#pragma once

#include <chrono>
#include <string_view>

#include "gateway/transport/stream_session.hpp"
#include "protocol/line_framer.hpp"
#include "protocol/telnet.hpp"

namespace chatgate {

class tcp_session final : public stream_session {
 public:
  tcp_session(asio::ip::tcp::socket socket, session_context& ctx);
  // The same protocol over TLS (--tls-tcp-port), after the handshake.
  tcp_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx);

  void start();

  void close() override { finish(); }
  void use_json() override;

 private:
  void on_bytes(char* data, std::size_t size) override;
  // `replies`: telnet answers gathered from the current read.
  bool on_data(std::string_view bytes, std::string& replies);
  void on_end_of_input() override;
  bool on_line(std::string_view line);
  bool on_too_long();
  bool reject_proxy_header(std::string_view line);
  void arm_idle_timer();
  void on_idle(std::error_code ec);

  protocol::telnet_decoder telnet_;
  protocol::line_framer framer_;
  std::chrono::steady_clock::time_point last_byte_{};
  bool json_ = false;
  bool saw_first_byte_ = false;
  bool proxy_checked_ = false;
  bool saw_first_line_ = false;  // --trust-proxy: the first line may be a PROXY header
};

}  // namespace chatgate
