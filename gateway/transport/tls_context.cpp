#include "gateway/transport/tls_context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "gateway/ops/startup_error.hpp"

namespace chatgate {
namespace {

// OpenSSL's last error in words, and the queue emptied.
std::string openssl_reason() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    reason = r ? r : "unknown OpenSSL error";
  }
  return reason.empty() ? "not usable" : reason;
}

// A clear "cannot read" before OpenSSL's less readable reasons.
std::string check_readable(const std::string& file, const char* what) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return std::string(what) + " " + file + ": " + std::strerror(errno);
  std::fclose(f);
  return {};
}

// Empty on failure, with `why` set.
tls_context_ptr load(const std::string& cert, const std::string& key, std::string& why) {
  if (why = check_readable(cert, "--tls-cert"); !why.empty()) return nullptr;
  if (why = check_readable(key, "--tls-key"); !why.empty()) return nullptr;
  ERR_clear_error();
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // TLS 1.2 and 1.3 only (SPEC 13).
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Sessions write from a buffer that may move between retries.
  SSL_CTX_set_mode(native, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  // fullchain.pem: the leaf first, then the intermediates, sent as they are.
  if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
    why = "--tls-cert " + cert + ": " + openssl_reason();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    why = "--tls-key " + key + ": " + openssl_reason();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    why = "--tls-key " + key + " does not match --tls-cert " + cert + ": " + openssl_reason();
    return nullptr;
  }
  return ctx;
}

std::string describe(const tls_context_ptr& ctx) {
  X509* leaf = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!leaf) return "?";
  char subject[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof subject);
  return subject;
}

}  // namespace

tls_context::tls_context(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  std::string why;
  current_ = load(cert_file_, key_file_, why);
  if (!current_) throw startup_error(why);
  spdlog::info("tls: certificate {} ({})", cert_file_, describe(current_));
}

void accept_tls(tls_context& tls, asio::ip::tcp::socket socket, metrics& stats, tls_listener listener,
                tls_ready ready) {
  constexpr std::chrono::seconds handshake_timeout{10};
  tls_context_ptr keep = tls.current();
  auto stream = std::make_unique<tls_stream>(std::move(socket), *keep);
  auto& s = *stream;
  struct deadline_state {
    asio::steady_timer timer;
    bool done = false;
  };
  auto deadline = std::make_shared<deadline_state>(deadline_state{asio::steady_timer(s.get_executor(), handshake_timeout)});
  deadline->timer.async_wait([&raw = s.next_layer(), deadline](std::error_code ec) {
    // Until `done` the stream lives in the pending handshake.
    if (ec || deadline->done) return;
    std::error_code ignored;
    raw.close(ignored);
  });
  s.async_handshake(asio::ssl::stream_base::server,
                    [stream = std::move(stream), keep = std::move(keep), deadline, &stats, listener,
                     ready = std::move(ready)](std::error_code ec) mutable {
                      deadline->done = true;
                      deadline->timer.cancel();
                      if (ec) {
                        stats.count_tls_failure(listener);
                        spdlog::debug("{} handshake failed: {}", to_label(listener), ec.message());
                        return;
                      }
                      ready(std::move(stream), std::move(keep));
                    });
}

bool tls_context::reload() {
  std::string why;
  auto fresh = load(cert_file_, key_file_, why);
  if (!fresh) {
    spdlog::error("tls: reload failed, keeping the old certificate: {}", why);
    return false;
  }
  // Connections hold their own reference (their SSL holds the SSL_CTX);
  // only new ones see the new pair.
  current_ = std::move(fresh);
  spdlog::info("tls: reloaded certificate {} ({})", cert_file_, describe(current_));
  return true;
}

}  // namespace chatgate
