// The TLS certificate and key every new TLS connection uses (SPEC 13), and
// their reload on SIGHUP. A connection keeps the context it started with.
#pragma once

#include <memory>
#include <string>

#include <asio.hpp>
#include <asio/ssl.hpp>

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

}  // namespace chatgate
