// HTTP and WebSocket on one port (websocketpp): the page, /ws, /healthz,
// /readyz, /metrics.
#pragma once

#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/transport/backpressure.hpp"
#include "gateway/ops/config.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/transport/tls_context.hpp"

namespace chatgate {

class web_server {
 public:
  // With `tls`: HTTPS and WSS only.
  web_server(asio::io_context& io, const config& cfg, hub& h, metrics& m, backpressure& bp,
             const asio::ip::tcp::endpoint& at, tls_context* tls = nullptr);
  ~web_server();

  asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Stops accepting and reports not ready; clients are closed through the hub.
  void stop();
  // /readyz answers 503 from now on; everything else goes on (SPEC 9, drain).
  void drain();

  struct impl;  // what both endpoints (plain, TLS) offer

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace chatgate
