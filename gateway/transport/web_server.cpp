#include "gateway/transport/web_server.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <websocketpp/server.hpp>

#include "gateway/transport/accept_backoff.hpp"
#include "gateway/transport/sockets.hpp"
#include "gateway/transport/static_files.hpp"
#include "gateway/transport/ws_config.hpp"
#include "gateway/transport/ws_session.hpp"
#include "protocol/jwt.hpp"
#include "protocol/proxy_header.hpp"

// websocketpp takes a handshake without Sec-WebSocket-Version for hybi00
// (Hixie-76), waits for 8 key bytes that never come, and answers 500. No
// client of ours speaks hybi00 and ws_session frames RFC 6455 only: give
// such a handshake the RFC 6455 processor, and on_validate refuses it with
// 426 and the version we speak (RFC 6455 4.2.2). Plain and TLS alike.
namespace chatgate {
namespace {
template <class Config, class Connection>
typename Connection::processor_ptr rfc6455_processor(int version, bool secure, bool is_server,
                                                     const typename Connection::con_msg_manager_ptr& manager,
                                                     typename Config::rng_type& rng) {
  namespace processor = websocketpp::processor;
  switch (version) {
    case 0:
    case 13:
      return std::make_shared<processor::hybi13<Config>>(secure, is_server, manager, std::ref(rng));
    case 7:
      return std::make_shared<processor::hybi07<Config>>(secure, is_server, manager, std::ref(rng));
    case 8:
      return std::make_shared<processor::hybi08<Config>>(secure, is_server, manager, std::ref(rng));
    default:
      return nullptr;  // websocketpp answers 400 with the versions it knows
  }
}
}  // namespace
}  // namespace chatgate

namespace websocketpp {
template <>
connection<chatgate::ws_config>::processor_ptr connection<chatgate::ws_config>::get_processor(
    int version) const {
  return chatgate::rfc6455_processor<chatgate::ws_config, connection>(
      version, transport_con_type::is_secure(), m_is_server, m_msg_manager, m_rng);
}
template <>
connection<chatgate::ws_tls_config>::processor_ptr connection<chatgate::ws_tls_config>::get_processor(
    int version) const {
  return chatgate::rfc6455_processor<chatgate::ws_tls_config, connection>(
      version, transport_con_type::is_secure(), m_is_server, m_msg_manager, m_rng);
}
}  // namespace websocketpp

namespace chatgate {
namespace {

constexpr std::size_t max_http_body = 64 * 1024;

// `token` from `/ws?a=b&token=JWT`; JWTs need no percent-decoding.
std::string query_token(const std::string& resource) {
  const auto q = resource.find('?');
  if (q == std::string::npos) return {};
  std::string_view query(resource);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, 6) == "token=") return std::string(pair.substr(6));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// GET /auth[?token=JWT]: what a WebSocket handshake with that token would
// meet, for the page to tell "sign in" from "server down" (a browser sees
// no HTTP status when a handshake fails). docs/operations.md.
std::string auth_status(const config& cfg, const std::string& token, std::int64_t now_s) {
  nlohmann::ordered_json j = {{"tokens", !cfg.auth_secret.empty()}, {"required", cfg.require_auth}};
  if (token.empty()) {
    j["token"] = "none";
  } else if (cfg.auth_secret.empty()) {
    j["token"] = "bad";
    j["reason"] = "this server does not accept tokens";
  } else if (auto checked = protocol::verify_token(token, cfg.auth_secret, now_s); checked.claims) {
    j["token"] = "good";
    j["nick"] = checked.claims->sub;
  } else {
    j["token"] = "bad";
    j["reason"] = checked.reason;
  }
  return j.dump();
}

std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

template <class Connection>
std::string peer_address(Connection& con, bool trust_proxy) {
  // With a trusted proxy, the last X-Forwarded-For entry is the address the
  // proxy saw; earlier ones come from the client and may be forged.
  std::error_code ec;
  const auto ep = con.get_raw_socket().remote_endpoint(ec);
  std::string direct = ec ? std::string("?") : to_text(ep);
  if (trust_proxy) {
    const std::string& xff = con.get_request_header("X-Forwarded-For");
    if (auto address = protocol::parse_forwarded_for(xff)) return *address;
    if (!xff.empty())
      spdlog::warn("ws {}: X-Forwarded-For ignored, not an IP address: \"{}\"", direct,
                   protocol::escape_for_log(xff));
  }
  return direct;
}

}  // namespace

struct web_server::impl {
  virtual ~impl() = default;
  virtual void listen(const asio::ip::tcp::endpoint& at) = 0;
  virtual asio::ip::tcp::endpoint local_endpoint() = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void drain() = 0;
};

namespace {

// One for HTTP and WS, one for HTTPS and WSS (websocketpp's TLS transport).
template <class Config>
struct endpoint_impl final : web_server::impl {
  using ws_endpoint = websocketpp::server<Config>;
  using connection_ptr = typename ws_endpoint::connection_ptr;
  static constexpr bool secure = std::is_same_v<Config, ws_tls_config>;

  endpoint_impl(asio::io_context& io, const config& c, hub& h, metrics& m, backpressure& bp,
                tls_context* tls)
      : ctx{c, h, m, bp}, cfg(c), hub_(h), metrics_(m), backoff(io.get_executor(), secure ? "https" : "http"),
        tls_(tls), io_(io) {
    ws.init_asio(&io);
    if constexpr (secure)
    {
      ws.set_tls_init_handler([this](websocketpp::connection_hdl) { return tls_->current(); });
      // The connection waiting in accept was made before a SIGHUP reload:
      // once accepted, switch it to the current certificate and key.
      ws.set_tcp_pre_init_handler([this](websocketpp::connection_hdl h) {
        SSL* ssl = ws.get_con_from_hdl(h)->get_socket().native_handle();
        SSL_CTX* now = tls_->current()->native_handle();
        if (SSL_get_SSL_CTX(ssl) != now) SSL_set_SSL_CTX(ssl, now);
      });
      // websocketpp ends a connection whose TLS handshake failed here.
      ws.set_fail_handler([this](websocketpp::connection_hdl h) {
        namespace sock = websocketpp::transport::asio::socket;
        const std::error_code ec = ws.get_con_from_hdl(h)->get_ec();
        if (ec == sock::make_error_code(sock::error::tls_handshake_failed) ||
            ec == sock::make_error_code(sock::error::tls_handshake_timeout))
          metrics_.count_tls_failure(tls_listener::https);
      });
    }
    ws.set_reuse_addr(true);
    ws.set_max_http_body_size(max_http_body);
    ws.set_validate_handler([this](websocketpp::connection_hdl h) { return on_validate(h); });
    ws.set_open_handler([this](websocketpp::connection_hdl h) { on_open(h); });
    ws.set_http_handler([this](websocketpp::connection_hdl h) { on_http(h); });
  }

  // Our own accept loop (websocketpp's retries at once and spins when out
  // of file descriptors).
  void do_accept() {
    if (stopping) return;
    connection_ptr con = ws.get_connection();
    std::error_code ec;
    ws.async_accept(con, [this, con](const std::error_code& accept_ec) { on_accept(con, accept_ec); }, ec);
    if (ec) con->terminate(ec);
  }

  void on_accept(const connection_ptr& con, const std::error_code& ec) {
    if (ec) {
      con->terminate(ec);
      if (stopping || !ws.is_listening()) return;
      return backoff.retry(ec, [this] { do_accept(); });
    }
    con->start();
    do_accept();
  }

  bool on_validate(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    const std::string& resource = con->get_resource();
    if (resource.substr(0, resource.find('?')) != "/ws") {
      con->set_status(websocketpp::http::status_code::not_found);
      return false;
    }
    if (con->get_request_header("Sec-WebSocket-Version").empty()) {
      con->set_status(websocketpp::http::status_code::upgrade_required);
      con->replace_header("Sec-WebSocket-Version", "13");
      con->set_body("Sec-WebSocket-Version missing: this server speaks 13 (RFC 6455)\n");
      return false;
    }
    if (stopping || hub_.full()) {
      metrics_.count_drop(drop_reason::server_full);
      con->set_status(websocketpp::http::status_code::service_unavailable);
      con->set_body("server full\n");
      return false;
    }
    if (cfg.require_auth) {
      // SPEC 13: no token, or a bad one, and the handshake is refused.
      const std::string token = query_token(resource);
      const auto checked = protocol::verify_token(token, cfg.auth_secret, unix_now());
      if (!checked.claims) {
        metrics_.count_auth(token.empty() ? auth_result::required
                            : checked.reason == "expired" ? auth_result::expired : auth_result::bad_token);
        con->set_status(websocketpp::http::status_code::unauthorized);
        con->replace_header("Content-Type", "text/plain");
        con->set_body(token.empty() ? "token required: connect to /ws?token=JWT\n"
                                    : "bad token: " + checked.reason + "\n");
        return false;
      }
    }
    return true;
  }

  // The handshake is done: a ws_session takes the socket over, and
  // websocketpp's connection (about 4 KB with its buffers) goes away. A
  // client may not send frames before it has the 101 (RFC 6455 4.1), so
  // nothing is left in websocketpp's read buffer.
  void on_open(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    std::string peer = peer_address(*con, cfg.trust_proxy);
    std::string token = query_token(con->get_resource());
    std::shared_ptr<ws_session> session;
    if constexpr (secure) {
      // The TLS stream moves (its SSL state, the socket) into the session;
      // websocketpp keeps an unopened stand-in to shut down. The session
      // holds the context it was made with, whatever SIGHUP does later.
      tls_stream& stream = con->get_socket();
      auto taken = std::make_unique<tls_stream>(std::move(stream));
      stream = tls_stream(io_, *tls_->current());
      session = std::make_shared<ws_session>(std::move(taken), tls_->current(), ctx, std::move(peer), shared);
    } else {
      session =
          std::make_shared<ws_session>(std::move(con->get_raw_socket()), ctx, std::move(peer), shared);
    }
    con->terminate({});
    session->start(std::move(token));
  }

  void on_http(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    const std::string& target = con->get_resource();
    const std::string path = target.substr(0, target.find('?'));
    auto reply = [&](websocketpp::http::status_code::value status, std::string body,
                     std::string_view type) {
      con->set_status(status);
      con->replace_header("Content-Type", std::string(type));
      con->replace_header("Cache-Control", "no-cache");
      con->set_body(std::move(body));
    };
    if (con->get_request().get_method() != "GET" && con->get_request().get_method() != "HEAD") {
      return reply(websocketpp::http::status_code::method_not_allowed, "GET only\n", "text/plain");
    }
    if (path == "/healthz") return reply(websocketpp::http::status_code::ok, R"({"status":"ok"})", "application/json");
    if (path == "/readyz") {
      if (stopping || draining)
        return reply(websocketpp::http::status_code::service_unavailable,
                     R"({"status":"shutting down"})", "application/json");
      if (!metrics_.node_id.empty() && !metrics_.redis_up)  // SPEC 11: a node without Redis
        return reply(websocketpp::http::status_code::service_unavailable,
                     R"({"status":"redis unavailable"})", "application/json");
      return reply(websocketpp::http::status_code::ok, R"({"status":"ready"})", "application/json");
    }
    if (path == "/auth")
      return reply(websocketpp::http::status_code::ok, auth_status(cfg, query_token(target), unix_now()),
                   "application/json");
    if (path == "/metrics")
      return reply(websocketpp::http::status_code::ok, metrics_.render(),
                   "text/plain; version=0.0.4; charset=utf-8");
    if (path == "/ws")
      return reply(websocketpp::http::status_code::upgrade_required,
                   "this is the WebSocket endpoint: connect with a WebSocket client\n", "text/plain");
    if (auto file = find_static_file(target, cfg.web_root)) {
      // The page needs nothing from elsewhere; say so to the browser.
      con->replace_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
      con->replace_header("X-Content-Type-Options", "nosniff");
      return reply(websocketpp::http::status_code::ok, std::move(file->body), file->content_type);
    }
    reply(websocketpp::http::status_code::not_found, "not found\n", "text/plain");
  }

  void listen(const asio::ip::tcp::endpoint& at) override {
    // The non-throwing overload: websocketpp's exception would abort start-up.
    std::error_code ec;
    ws.listen(at, ec);
    if (ec) fail_to_listen(secure ? "https+wss (--http-port)" : "http+ws (--http-port)", at, ec);
  }
  void drain() override { draining = true; }
  asio::ip::tcp::endpoint local_endpoint() override {
    std::error_code ec;
    return ws.get_local_endpoint(ec);
  }
  void start() override { do_accept(); }
  void stop() override {
    stopping = true;
    backoff.cancel();
    std::error_code ec;
    ws.stop_listening(ec);
  }

  session_context ctx;
  ws_shared shared;
  const config& cfg;
  hub& hub_;
  metrics& metrics_;
  accept_backoff backoff;
  tls_context* tls_;
  asio::io_context& io_;
  ws_endpoint ws;
  bool stopping = false;
  bool draining = false;  // SIGTERM with --shutdown-delay-s: not ready, still serving
};

}  // namespace

web_server::web_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::tcp::endpoint& at, tls_context* tls) {
  if (tls)
    impl_ = std::make_unique<endpoint_impl<ws_tls_config>>(io, cfg, h, m, bp, tls);
  else
    impl_ = std::make_unique<endpoint_impl<ws_config>>(io, cfg, h, m, bp, nullptr);
  impl_->listen(at);
}

web_server::~web_server() = default;

asio::ip::tcp::endpoint web_server::local_endpoint() const { return impl_->local_endpoint(); }

void web_server::start() { impl_->start(); }

void web_server::drain() { impl_->drain(); }

void web_server::stop() { impl_->stop(); }

}  // namespace chatgate
