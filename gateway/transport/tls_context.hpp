// The TLS certificate and key every new TLS connection uses (SPEC 13), and
// their reload on SIGHUP. A connection keeps the context it started with.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include "gateway/ops/metrics.hpp"

namespace chatgate {

using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;
using tls_context_ptr = std::shared_ptr<asio::ssl::context>;

class tls_context {
 public:
  // Throws startup_error naming the file and the reason.
  tls_context(std::string cert_file, std::string key_file);

  // For new connections.
  const tls_context_ptr& current() const { return current_; }
  // Reads the files again; on any problem logs it and keeps the old pair.
  bool reload();

 private:
  std::string cert_file_;
  std::string key_file_;
  tls_context_ptr current_;
};

// The server side of a TLS handshake on an accepted socket, for every TLS
// listener (TCP chat, IRC): the connection keeps the certificate that is
// current now (a SIGHUP reload affects only later ones), and one that does
// not finish within 10 s is closed. `ready` gets the stream and its context
// only when the handshake succeeded; a failure is counted for `listener`
// in /metrics and logged (debug) under its name.
using tls_ready = std::function<void(std::unique_ptr<tls_stream>, tls_context_ptr)>;
void accept_tls(tls_context& tls, asio::ip::tcp::socket socket, metrics& stats, tls_listener listener,
                tls_ready ready);

}  // namespace chatgate
