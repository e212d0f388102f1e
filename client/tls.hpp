// TLS for the client's links (wss://, --tls): one OpenSSL context per
// connection, checked against the system's CAs or --ca FILE, the server's
// name checked too unless --insecure.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include <asio/ssl.hpp>

#include "client/options.hpp"

namespace chatgate::client {

using tls_context_ptr = std::shared_ptr<asio::ssl::context>;

// nullptr with `error` set when --ca FILE cannot be used.
tls_context_ptr make_tls_context(const target& to, std::string& error);

// Before the handshake: the name for SNI, and the name or address the
// certificate must be for (not with --insecure).
void prepare_tls(SSL* ssl, const target& to);

// Why a handshake failed, in words: the certificate check's reason when
// that was it, with what to do about it.
std::string describe_tls_failure(SSL* ssl, const target& to, const std::string& error);

}  // namespace chatgate::client
