#include "gateway/gateway.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "gateway/ops/startup_error.hpp"

namespace chatgate {
gateway::gateway(asio::io_context& io, const config& cfg, hub& h, metrics& m)
    : io_(io),
      cfg_(cfg),
      hub_(h),
      metrics_(m),
      pressure_(io, h, cfg.max_queue_bytes),
      drain_timer_(io),
      delay_timer_(io),
      auth_timer_(io),
      presence_timer_(io) {
  std::error_code ec;
  const auto address = asio::ip::make_address(cfg.bind, ec);
  if (ec) throw startup_error("--bind: not an IP address: '" + cfg.bind + "'");
  if (cfg.tls()) tls_ = std::make_unique<tls_context>(cfg.tls_cert, cfg.tls_key);
  web_ = std::make_unique<web_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.http_port),
                                      tls_.get());
  if (tls_ && !cfg.no_tls_tcp)
    tls_tcp_ = std::make_unique<tcp_server>(io, cfg, h, m, pressure_,
                                            asio::ip::tcp::endpoint(address, cfg.tls_tcp_port), tls_.get());
  if (!cfg.no_tcp)
    tcp_ = std::make_unique<tcp_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.tcp_port));
  if (!cfg.no_udp)
    udp_ = std::make_unique<udp_server>(io, cfg, h, m, pressure_, asio::ip::udp::endpoint(address, cfg.udp_port));
  if (!cfg.no_echo)
    echo_ = std::make_unique<echo_server>(io, cfg, h, m, asio::ip::tcp::endpoint(address, cfg.echo_port));
  // The echo never answers this server's own UDP ports (SPEC 9).
  if (echo_ && udp_) echo_->add_own_port(udp_->local_endpoint().port());
  if (!cfg.no_irc)
    irc_ = std::make_unique<irc_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.irc_port));
  // Like the TLS TCP chat port: independent of --no-irc, so IRC can be TLS only.
  if (tls_ && !cfg.no_irc_tls)
    irc_tls_ = std::make_unique<irc_server>(io, cfg, h, m, pressure_,
                                            asio::ip::tcp::endpoint(address, cfg.irc_tls_port), tls_.get());
}

gateway::~gateway() = default;

void gateway::start() {
  web_->start();
  if (tcp_) tcp_->start();
  if (udp_) udp_->start();
  if (echo_) echo_->start();
  if (tls_tcp_) tls_tcp_->start();
  if (irc_) irc_->start();
  if (irc_tls_) irc_tls_->start();
  if (cfg_.require_auth) check_auth_deadlines();
  tick_presence();
}

void gateway::tick_presence() {
  hub_.flush_presence();
  presence_timer_.expires_after(std::chrono::seconds(1));
  presence_timer_.async_wait([this](std::error_code ec) {
    if (!ec) tick_presence();
  });
}

void gateway::check_auth_deadlines() {
  hub_.expire_unauthenticated(std::chrono::steady_clock::now());
  auth_timer_.expires_after(std::chrono::seconds(1));
  auth_timer_.async_wait([this](std::error_code ec) {
    if (!ec) check_auth_deadlines();
  });
}

void gateway::reload_tls() {
  if (!tls_) {
    spdlog::info("SIGHUP: no --tls-cert, nothing to reload");
    return;
  }
  tls_->reload();
}

void gateway::on_signal(int signo, std::chrono::milliseconds grace) {
  if (shutting_down_) return;
  const bool delay = signo == SIGTERM && !draining_ && cfg_.shutdown_delay_s > 0;
  if (!delay) {
    spdlog::info("signal {}: shutting down", signo);
    return shutdown(grace);
  }
  draining_ = true;
  web_->drain();
  spdlog::info("signal {}: /readyz answers 503; shutting down in {} s (another signal: now)", signo,
               cfg_.shutdown_delay_s);
  delay_timer_.expires_after(std::chrono::seconds(cfg_.shutdown_delay_s));
  delay_timer_.async_wait([this, grace](std::error_code ec) {
    if (ec || shutting_down_) return;
    spdlog::info("shutdown delay over: shutting down");
    shutdown(grace);
  });
}

void gateway::shutdown(std::chrono::milliseconds grace) {
  if (shutting_down_) return;
  shutting_down_ = true;
  delay_timer_.cancel();
  web_->stop();
  if (tcp_) tcp_->stop();
  if (tls_tcp_) tls_tcp_->stop();
  if (echo_) echo_->stop();
  if (irc_) irc_->stop();
  if (irc_tls_) irc_tls_->stop();
  auth_timer_.cancel();
  presence_timer_.cancel();
  hub_.shutdown();
  if (udp_) udp_->stop();
  wait_for_clients(std::chrono::steady_clock::now() + grace);
}

void gateway::wait_for_clients(std::chrono::steady_clock::time_point deadline) {
  if (hub_.client_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
    // Whatever is still pending (a client that does not read) is abandoned.
    io_.stop();
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(20));
  drain_timer_.async_wait([this, deadline](std::error_code ec) {
    if (!ec) wait_for_clients(deadline);
  });
}

std::string gateway::ports_json() const {
  auto port = [](bool on, auto get) { return on ? std::to_string(get()) : std::string("null"); };
  return "{\"http\":" + port(true, [&] { return web_->local_endpoint().port(); }) +
         ",\"tcp\":" + port(bool(tcp_), [&] { return tcp_->local_endpoint().port(); }) +
         ",\"udp\":" + port(bool(udp_), [&] { return udp_->local_endpoint().port(); }) +
         ",\"echo\":" + port(bool(echo_), [&] { return echo_->tcp_endpoint().port(); }) +
         ",\"irc\":" + port(bool(irc_), [&] { return irc_->local_endpoint().port(); }) +
         (tls_tcp_ ? ",\"tls_tcp\":" + std::to_string(tls_tcp_->local_endpoint().port()) : std::string()) +
         (irc_tls_ ? ",\"irc_tls\":" + std::to_string(irc_tls_->local_endpoint().port()) : std::string()) + "}";
}

void gateway::log_listeners() const {
  spdlog::info("listening: {} on {} (GET / , /ws, /healthz, /readyz, /metrics)",
               tls_ ? "https+wss" : "http+ws", to_text(web_->local_endpoint()));
  if (tls_tcp_) spdlog::info("listening: tls tcp chat on {}", to_text(tls_tcp_->local_endpoint()));
  if (tcp_) spdlog::info("listening: tcp chat on {}", to_text(tcp_->local_endpoint()));
  if (udp_) spdlog::info("listening: udp chat on {}", to_text(udp_->local_endpoint()));
  if (echo_) {
    spdlog::info("listening: echo tcp on {}", to_text(echo_->tcp_endpoint()));
    spdlog::info("listening: echo udp on {}", to_text(echo_->udp_endpoint()));
  }
  if (irc_) spdlog::info("listening: irc on {}", to_text(irc_->local_endpoint()));
  if (irc_tls_) spdlog::info("listening: irc over tls on {}", to_text(irc_tls_->local_endpoint()));
}

bool stage_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (written && closed) return true;
  const int error = errno;  // what the caller reports, not remove()'s
  std::remove(tmp.c_str());
  errno = error;
  return false;
}

bool commit_file(const std::string& path) {
  const std::string tmp = path + ".tmp";
  if (std::rename(tmp.c_str(), path.c_str()) == 0) return true;
  const int error = errno;
  std::remove(tmp.c_str());
  errno = error;
  return false;
}

bool write_file_atomically(const std::string& path, const std::string& text) {
  return stage_file(path, text) && commit_file(path);
}

}  // namespace chatgate
