// One IRC client (SPEC 14): registration and capabilities here, chat
// commands translated into the hub's requests; the hub's answers come back
// already encoded as IRC lines (wire::irc, wire::irc_tagged).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "gateway/transport/stream_session.hpp"
#include "protocol/irc_message.hpp"
#include "protocol/irc_sasl.hpp"
#include "protocol/line_framer.hpp"

namespace chatgate {

class irc_session final : public stream_session {
 public:
  irc_session(asio::ip::tcp::socket socket, session_context& ctx);
  // The same protocol over TLS (--irc-tls-port), after the handshake.
  irc_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx);

  void start();

  void close() override { finish(); }
  wire json_wire() const override { return server_time_ ? wire::irc_tagged : wire::irc; }
  bool echoes_own_messages() const override { return echo_message_; }

 private:
  void on_bytes(char* data, std::size_t size) override;
  void on_end_of_input() override;
  bool on_line(std::string_view line);
  void on_message(const protocol::irc_message& m);
  void on_registration(const protocol::irc_message& m);
  void try_register();
  void register_now(std::string token);

  void cap(const protocol::irc_message& m);
  void authenticate(const protocol::irc_message& m);
  void sasl_finish();
  // What the client may ask for: sasl only when tokens are accepted.
  bool offered_cap(const std::string& name) const;
  void join(const protocol::irc_message& m);
  void part(const protocol::irc_message& m);
  void privmsg(const protocol::irc_message& m, bool notice);
  void nick(const protocol::irc_message& m);
  void topic(const protocol::irc_message& m);
  void names(const protocol::irc_message& m);
  void who(const protocol::irc_message& m);
  void whois(const protocol::irc_message& m);
  void mode(const protocol::irc_message& m);

  // The client's nick now ("*" before registration).
  std::string me() const;
  void request(protocol::request_body body, const std::string& kind, const std::string& target = {});
  void reply(const char* numeric, std::vector<std::string> params);
  void send_line(protocol::irc_message m);
  void arm_ping();
  void on_ping_timer(std::error_code ec);

  protocol::line_framer framer_;
  std::unique_ptr<asio::steady_timer> ping_timer_;
  std::chrono::steady_clock::time_point last_input_;
  bool awaiting_pong_ = false;
  bool registered_ = false;
  bool claiming_ = false;  // the cluster is asked for nick_ (SPEC 11)
  bool cap_negotiating_ = false;
  bool got_user_ = false;
  bool server_time_ = false;
  bool message_tags_ = false;
  bool echo_message_ = false;
  bool sasl_cap_ = false;
  bool cap_302_ = false;         // CAP LS 302: capability values (sasl=PLAIN)
  bool sasl_started_ = false;    // AUTHENTICATE PLAIN answered with "+"
  protocol::sasl_reader sasl_;
  std::string sasl_token_;       // a good token proved by SASL PLAIN
  unsigned unregistered_lines_ = 0;
  std::string nick_;  // chosen before registration
  std::string pass_;  // PASS: a token when --auth-secret is set (SPEC 14)
  std::string sasl_account_;  // the token's sub once SASL succeeded
};

}  // namespace chatgate
