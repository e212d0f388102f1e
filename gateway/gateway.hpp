// The whole server: the hub and its listeners on one event loop.
#pragma once

#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/transport/backpressure.hpp"
#include "gateway/ops/config.hpp"
#include "gateway/transport/echo_server.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/transport/irc_server.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/transport/tcp_server.hpp"
#include "gateway/transport/tls_context.hpp"
#include "gateway/transport/udp_server.hpp"
#include "gateway/transport/web_server.hpp"

namespace chatgate {

class gateway {
 public:
  // Binds every listener that is switched on; throws startup_error naming
  // the listener, its address and port when one cannot be bound.
  gateway(asio::io_context& io, const config& cfg, hub& h, metrics& m);
  ~gateway();

  void start();
  // Stops accepting, says goodbye to every client, and lets the loop run
  // dry; the loop is stopped for good after `grace`.
  void shutdown(std::chrono::milliseconds grace);
  // SIGTERM with --shutdown-delay-s N: /readyz answers 503 for N seconds
  // while everything else goes on (a load balancer takes the server out of
  // rotation), then shutdown(). SIGINT, a second signal during the delay,
  // or N = 0: shutdown() at once. Later signals change nothing.
  void on_signal(int signo, std::chrono::milliseconds grace);

  // {"http":N,"tcp":N,"udp":N,"echo":N}; null for a listener that is off;
  // "tls_tcp":N and "irc_tls":N are added when those TLS listeners are on.
  std::string ports_json() const;
  void log_listeners() const;

  // SIGHUP: new TLS connections use the certificate and key as they are on
  // disk now; a bad file is logged and the old pair kept.
  void reload_tls();

 private:
  void wait_for_clients(std::chrono::steady_clock::time_point deadline);
  void check_auth_deadlines();
  void tick_presence();

  asio::io_context& io_;
  const config& cfg_;
  hub& hub_;
  metrics& metrics_;
  backpressure pressure_;  // before the listeners: they use it until they are gone
  std::unique_ptr<tls_context> tls_;  // before the listeners, like pressure_
  std::unique_ptr<web_server> web_;
  std::unique_ptr<tcp_server> tcp_;
  std::unique_ptr<udp_server> udp_;
  std::unique_ptr<echo_server> echo_;
  std::unique_ptr<tcp_server> tls_tcp_;
  std::unique_ptr<irc_server> irc_;
  std::unique_ptr<irc_server> irc_tls_;
  asio::steady_timer drain_timer_;
  asio::steady_timer delay_timer_;  // --shutdown-delay-s
  bool draining_ = false;
  bool shutting_down_ = false;
  asio::steady_timer auth_timer_;
  asio::steady_timer presence_timer_;  // counted joins and leaves, once a second
};

// Writes `text` to `path` atomically (a temporary file, then rename). On
// failure returns false with errno saying why.
bool write_file_atomically(const std::string& path, const std::string& text);
// The two halves: `path`.tmp written, then renamed to `path`.
bool stage_file(const std::string& path, const std::string& text);
bool commit_file(const std::string& path);

}  // namespace chatgate
