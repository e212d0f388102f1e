#include "client/tls.hpp"

#include <openssl/x509v3.h>

namespace chatgate::client {

tls_context_ptr make_tls_context(const target& to, std::string& error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // The server speaks TLS 1.2 and 1.3 only (SPEC 13).
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  std::error_code ec;
  if (to.insecure) {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
    return ctx;
  }
  // --ca replaces the system's CAs, as curl's --cacert does.
  if (!to.ca_file.empty())
    ctx->load_verify_file(to.ca_file, ec);
  else
    ctx->set_default_verify_paths(ec);
  if (ec) {
    error = to.ca_file.empty() ? "cannot load the system's CA certificates: " + ec.message()
                               : "--ca " + to.ca_file + ": no usable CA certificate in it (" + ec.message() + ")";
    return nullptr;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  return ctx;
}

void prepare_tls(SSL* ssl, const target& to) {
  asio::error_code not_ip;
  asio::ip::make_address(to.host, not_ip);
  // SNI carries names only, never addresses (RFC 6066 3).
  if (not_ip) SSL_set_tlsext_host_name(ssl, to.host.c_str());
  if (to.insecure) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (not_ip)
    X509_VERIFY_PARAM_set1_host(param, to.host.c_str(), 0);
  else
    X509_VERIFY_PARAM_set1_ip_asc(param, to.host.c_str());
}

std::string describe_tls_failure(SSL* ssl, const target& to, const std::string& error) {
  const long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (!to.insecure && verify != X509_V_OK)
    return "TLS with " + to.describe() + " failed: the server's certificate is not trusted (" +
           X509_verify_cert_error_string(verify) + "); use --ca FILE for its CA, or --insecure to skip the check";
  return "TLS with " + to.describe() + " failed: " + error;
}

}  // namespace chatgate::client
