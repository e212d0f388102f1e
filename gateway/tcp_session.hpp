// One TCP chat connection: framing in, a capped queue of shared buffers out.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "gateway/hub.hpp"
#include "gateway/participant.hpp"
#include "protocol/line_framer.hpp"

namespace chatgate {

class tcp_server;

class tcp_session final : public participant, public std::enable_shared_from_this<tcp_session> {
 public:
  tcp_session(asio::ip::tcp::socket socket, tcp_server& server);

  void start();

  void deliver(const shared_bytes& bytes) override;
  void close() override;
  void use_json() override;
  std::size_t queued_bytes() const override { return queued_bytes_; }
  void drop_slow() override;

 private:
  void do_read();
  void on_readable(std::error_code ec);
  void on_bytes(std::string_view bytes);
  void on_end_of_input();
  bool on_line(std::string_view line);
  bool on_too_long();
  void arm_idle_timer();
  void on_idle(std::error_code ec);
  void arm_close_deadline();

  void do_write();
  void on_write(std::error_code ec, std::size_t n);

  // Ends the connection now (hub, socket); safe to call twice.
  void stop(const char* why);

  asio::ip::tcp::socket socket_;
  tcp_server& server_;
  std::string peer_;
  client_id id_ = 0;
  protocol::line_framer framer_;
  std::unique_ptr<asio::steady_timer> idle_timer_;  // only while a partial line waits
  std::chrono::steady_clock::time_point last_byte_{};

  std::vector<shared_bytes> queue_;    // waiting to be written
  std::vector<shared_bytes> writing_;  // handed to the socket
  std::size_t queued_bytes_ = 0;       // both of the above
  bool json_ = false;
  bool saw_first_byte_ = false;
  bool proxy_checked_ = false;
  bool saw_first_line_ = false;  // --trust-proxy: the first line may be a PROXY header
  bool closing_ = false;  // no more input; close once the queue is flushed
  bool stopped_ = false;
};

}  // namespace chatgate
