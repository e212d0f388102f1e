#include "gateway/web_server.hpp"

#include <spdlog/spdlog.h>

#include <websocketpp/server.hpp>

#include "gateway/accept_backoff.hpp"
#include "gateway/sockets.hpp"
#include "gateway/static_files.hpp"
#include "gateway/ws_config.hpp"
#include "gateway/ws_session.hpp"
#include "protocol/proxy_header.hpp"

// websocketpp takes a handshake without Sec-WebSocket-Version for hybi00
// (Hixie-76), waits for 8 key bytes that never come, and answers 500. No
// client of ours speaks hybi00 and ws_session frames RFC 6455 only: give
// such a handshake the RFC 6455 processor, and on_validate refuses it with
// 426 and the version we speak (RFC 6455 4.2.2).
namespace websocketpp {
template <>
connection<chatgate::ws_config>::processor_ptr connection<chatgate::ws_config>::get_processor(
    int version) const {
  const bool secure = transport_con_type::is_secure();
  switch (version) {
    case 0:
    case 13:
      return std::make_shared<processor::hybi13<chatgate::ws_config>>(secure, m_is_server, m_msg_manager,
                                                                       std::ref(m_rng));
    case 7:
      return std::make_shared<processor::hybi07<chatgate::ws_config>>(secure, m_is_server, m_msg_manager,
                                                                       std::ref(m_rng));
    case 8:
      return std::make_shared<processor::hybi08<chatgate::ws_config>>(secure, m_is_server, m_msg_manager,
                                                                       std::ref(m_rng));
    default:
      return nullptr;  // websocketpp answers 400 with the versions it knows
  }
}
}  // namespace websocketpp

namespace chatgate {
namespace {

using ws_endpoint = websocketpp::server<ws_config>;
using connection = ws_endpoint::connection_type;
using connection_ptr = ws_endpoint::connection_ptr;

constexpr std::size_t max_http_body = 64 * 1024;

std::string peer_address(connection& con, bool trust_proxy) {
  // With a trusted proxy, the last X-Forwarded-For entry is the address the
  // proxy saw; earlier ones come from the client and may be forged.
  if (trust_proxy) {
    const std::string& xff = con.get_request_header("X-Forwarded-For");
    if (auto address = protocol::parse_forwarded_for(xff)) return *address;
    if (!xff.empty())
      spdlog::warn("ws {}: X-Forwarded-For ignored, not an IP address: \"{}\"",
                   peer_text(con.get_raw_socket()), protocol::escape_for_log(xff));
  }
  return peer_text(con.get_raw_socket());
}

}  // namespace

struct web_server::impl {
  impl(asio::io_context& io, const config& c, hub& h, metrics& m, backpressure& bp)
      : ctx{c, h, m, bp}, cfg(c), hub_(h), metrics_(m), backoff(io.get_executor(), "http") {
    ws.init_asio(&io);
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
    return true;
  }

  // The handshake is done: a ws_session takes the socket over, and
  // websocketpp's connection (about 4 KB with its buffers) goes away. A
  // client may not send frames before it has the 101 (RFC 6455 4.1), so
  // nothing is left in websocketpp's read buffer.
  void on_open(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    std::string peer = peer_address(*con, cfg.trust_proxy);
    auto session =
        std::make_shared<ws_session>(std::move(con->get_raw_socket()), ctx, std::move(peer), shared);
    con->terminate({});
    session->start();
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
      return reply(websocketpp::http::status_code::ok, R"({"status":"ready"})", "application/json");
    }
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

  session_context ctx;
  ws_shared shared;
  const config& cfg;
  hub& hub_;
  metrics& metrics_;
  accept_backoff backoff;
  ws_endpoint ws;
  bool stopping = false;
  bool draining = false;  // SIGTERM with --shutdown-delay-s: not ready, still serving
};

web_server::web_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::tcp::endpoint& at)
    : impl_(std::make_unique<impl>(io, cfg, h, m, bp)) {
  // The non-throwing overload: websocketpp's exception would abort start-up.
  std::error_code ec;
  impl_->ws.listen(at, ec);
  if (ec) fail_to_listen("http+ws (--http-port)", at, ec);
}

web_server::~web_server() = default;

asio::ip::tcp::endpoint web_server::local_endpoint() const {
  std::error_code ec;
  return impl_->ws.get_local_endpoint(ec);
}

void web_server::start() { impl_->do_accept(); }

void web_server::drain() { impl_->draining = true; }

void web_server::stop() {
  impl_->stopping = true;
  impl_->backoff.cancel();
  std::error_code ec;
  impl_->ws.stop_listening(ec);
}

}  // namespace chatgate
