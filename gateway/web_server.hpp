// HTTP and WebSocket on one port (websocketpp): the page, /ws, /healthz,
// /readyz, /metrics.
#pragma once

#include <memory>
#include <string>

#include <asio.hpp>

#include "gateway/backpressure.hpp"
#include "gateway/config.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "gateway/participant.hpp"

namespace chatgate {

class web_server;

// Per-connection state, kept inside websocketpp's connection object (it is
// the config's connection_base), so no map from handles is needed.
class ws_peer : public participant {
 public:
  void deliver(const shared_bytes& bytes) override;
  void close() override;
  std::size_t queued_bytes() const override;
  void drop_slow() override;

 private:
  friend class web_server;
  web_server* server_ = nullptr;
  client_id id_ = 0;
  bool closing_ = false;
};

class web_server {
 public:
  web_server(asio::io_context& io, const config& cfg, hub& h, metrics& m, backpressure& bp,
             const asio::ip::tcp::endpoint& at);
  ~web_server();

  asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Stops accepting and reports not ready; clients are closed through the hub.
  void stop();

 private:
  friend class ws_peer;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chatgate
