#include "gateway/gateway.hpp"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "gateway/sockets.hpp"

namespace chatgate {
gateway::gateway(asio::io_context& io, const config& cfg, hub& h, metrics& m)
    : io_(io), cfg_(cfg), hub_(h), metrics_(m), pressure_(io, h, cfg.max_queue_bytes), drain_timer_(io) {
  const auto address = asio::ip::make_address(cfg.bind);
  web_ = std::make_unique<web_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.http_port));
  if (!cfg.no_tcp)
    tcp_ = std::make_unique<tcp_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.tcp_port));
  if (!cfg.no_udp)
    udp_ = std::make_unique<udp_server>(io, cfg, h, m, pressure_, asio::ip::udp::endpoint(address, cfg.udp_port));
  if (!cfg.no_echo)
    echo_ = std::make_unique<echo_server>(io, cfg, h, m, asio::ip::tcp::endpoint(address, cfg.echo_port));
  if (!cfg.no_irc)
    irc_ = std::make_unique<irc_server>(io, cfg, h, m, pressure_, asio::ip::tcp::endpoint(address, cfg.irc_port));
}

gateway::~gateway() = default;

void gateway::start() {
  web_->start();
  if (tcp_) tcp_->start();
  if (udp_) udp_->start();
  if (echo_) echo_->start();
  if (irc_) irc_->start();
}

void gateway::shutdown(std::chrono::milliseconds grace) {
  web_->stop();
  if (tcp_) tcp_->stop();
  if (echo_) echo_->stop();
  if (irc_) irc_->stop();
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
         ",\"irc\":" + port(bool(irc_), [&] { return irc_->local_endpoint().port(); }) + "}";
}

void gateway::log_listeners() const {
  spdlog::info("listening: http+ws on {} (GET / , /ws, /healthz, /readyz, /metrics)",
               to_text(web_->local_endpoint()));
  if (tcp_) spdlog::info("listening: tcp chat on {}", to_text(tcp_->local_endpoint()));
  if (udp_) spdlog::info("listening: udp chat on {}", to_text(udp_->local_endpoint()));
  if (echo_) {
    spdlog::info("listening: echo tcp on {}", to_text(echo_->tcp_endpoint()));
    spdlog::info("listening: echo udp on {}", to_text(echo_->udp_endpoint()));
  }
  if (irc_) spdlog::info("listening: irc on {}", to_text(irc_->local_endpoint()));
}

bool write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace chatgate
