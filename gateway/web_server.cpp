#include "gateway/web_server.hpp"

#include <spdlog/spdlog.h>

// websocketpp's own headers warn under -Wextra; they are system headers in
// the build, and this is the only file that includes them.
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/logger/stub.hpp>
#include <websocketpp/server.hpp>

#include "gateway/accept_backoff.hpp"
#include "gateway/sockets.hpp"
#include "gateway/static_files.hpp"
#include "protocol/json_request.hpp"

namespace chatgate {
namespace {

// Single-threaded (the loop owns everything), no logging on the hot path,
// and our per-connection state inside the connection object.
struct ws_config : websocketpp::config::asio {
  using type = ws_config;
  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  using connection_base = ws_peer;

  struct transport_config : websocketpp::config::asio::transport_config {
    using concurrency_type = ws_config::concurrency_type;
    using alog_type = ws_config::alog_type;
    using elog_type = ws_config::elog_type;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  // Frames are small and rate limited; a big buffer per connection is idle memory.
  static const size_t connection_read_buffer_size = 1024;
};

using ws_endpoint = websocketpp::server<ws_config>;
using connection = ws_endpoint::connection_type;
using connection_ptr = ws_endpoint::connection_ptr;
using message_ptr = ws_config::message_type::ptr;
namespace close_code = websocketpp::close::status;

constexpr std::size_t max_http_body = 64 * 1024;

std::string peer_address(connection& con, bool trust_proxy) {
  // With a trusted proxy, the last X-Forwarded-For entry is the address the
  // proxy saw; earlier ones come from the client and may be forged.
  if (trust_proxy) {
    const std::string& xff = con.get_request_header("X-Forwarded-For");
    if (!xff.empty()) {
      std::string last = xff.substr(xff.rfind(',') == std::string::npos ? 0 : xff.rfind(',') + 1);
      last.erase(0, last.find_first_not_of(" \t"));
      last.erase(last.find_last_not_of(" \t") + 1);
      if (!last.empty() && last.size() <= 64) return last;
    }
  }
  return peer_text(con.get_raw_socket());
}

}  // namespace

struct web_server::impl {
  impl(asio::io_context& io, const config& c, hub& h, metrics& m, backpressure& bp)
      : cfg(c), hub_(h), metrics_(m), pressure(bp), backoff(io.get_executor(), "http"), msg_manager(std::make_shared<ws_config::con_msg_manager_type>()),
        framer(false, true, msg_manager, rng) {
    ws.init_asio(&io);
    ws.set_reuse_addr(true);
    ws.set_max_message_size(cfg.max_frame_bytes);
    ws.set_max_http_body_size(max_http_body);
    ws.set_validate_handler([this](websocketpp::connection_hdl h) { return on_validate(h); });
    ws.set_open_handler([this](websocketpp::connection_hdl h) { on_open(h); });
    ws.set_close_handler([this](websocketpp::connection_hdl h) { on_gone(h); });
    ws.set_fail_handler([this](websocketpp::connection_hdl h) { on_gone(h); });
    ws.set_message_handler(
        [this](websocketpp::connection_hdl h, message_ptr msg) { on_message(h, msg); });
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
    if (stopping || hub_.full()) {
      metrics_.count_drop(drop_reason::server_full);
      con->set_status(websocketpp::http::status_code::service_unavailable);
      con->set_body("server full\n");
      return false;
    }
    return true;
  }

  void on_open(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    ws_peer& peer = *con;
    peer.server_ = owner;
    peer.id_ = hub_.connect(peer, protocol::via::ws, /*json=*/true);
    spdlog::info("ws {} connected (client {})", peer_address(*con, cfg.trust_proxy), peer.id_);
  }

  void on_gone(websocketpp::connection_hdl h) {
    connection_ptr con = ws.get_con_from_hdl(h);
    ws_peer& peer = *con;
    if (peer.id_ == 0) return;  // never opened
    spdlog::info("ws client {} disconnected ({})", peer.id_, con->get_remote_close_code());
    if (con->get_local_close_code() == close_code::message_too_big)
      metrics_.count_drop(drop_reason::frame_too_big);
    peer.closing_ = true;
    pressure.forget(peer);
    hub_.disconnect(std::exchange(peer.id_, 0));
  }

  void on_message(websocketpp::connection_hdl h, const message_ptr& msg) {
    connection_ptr con = ws.get_con_from_hdl(h);
    ws_peer& peer = *con;
    if (peer.closing_) return;
    if (msg->get_opcode() != websocketpp::frame::opcode::text) {
      hub_.handle(peer.id_, protocol::request{protocol::req::invalid{protocol::error_code::bad_request,
                                                                     "send JSON in text frames"},
                                              nullptr});
      return;
    }
    hub_.handle(peer.id_, protocol::parse_json_request(msg->get_payload()));
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
      if (stopping)
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

  // One frame per broadcast: every WebSocket recipient of the same bytes
  // shares the frame built for the first one.
  message_ptr frame_for(const shared_bytes& bytes) {
    if (cached_bytes != bytes) {
      auto msg = msg_manager->get_message(websocketpp::frame::opcode::text, bytes->size());
      // Our JSON lines end in '\n'; a WebSocket frame carries one object without it.
      std::string_view payload(*bytes);
      if (!payload.empty() && payload.back() == '\n') payload.remove_suffix(1);
      msg->append_payload(payload.data(), payload.size());
      cached_frame = msg_manager->get_message();
      framer.prepare_data_frame(msg, cached_frame);
      cached_bytes = bytes;
    }
    return cached_frame;
  }

  web_server* owner = nullptr;
  const config& cfg;
  hub& hub_;
  metrics& metrics_;
  backpressure& pressure;
  accept_backoff backoff;
  ws_endpoint ws;
  ws_config::con_msg_manager_type::ptr msg_manager;
  ws_config::rng_type rng;
  websocketpp::processor::hybi13<ws_config> framer;
  shared_bytes cached_bytes;
  message_ptr cached_frame;
  bool stopping = false;
};

void ws_peer::deliver(const shared_bytes& bytes) {
  if (closing_ || !server_) return;
  auto& con = static_cast<connection&>(*this);
  web_server::impl& s = *server_->impl_;
  if (con.get_buffered_amount() + bytes->size() > s.cfg.max_queue_bytes) return drop_slow();
  con.send(s.frame_for(bytes));
  s.pressure.check(*this);
}

void ws_peer::drop_slow() {
  if (closing_ || !server_) return;
  auto& con = static_cast<connection&>(*this);
  web_server::impl& s = *server_->impl_;
  // Nobody waits for a client that does not read: drop it, from the loop.
  closing_ = true;
  s.pressure.forget(*this);
  s.metrics_.count_drop(drop_reason::slow_consumer);
  spdlog::info("ws client {} dropped: not reading, {} bytes queued", id_, con.get_buffered_amount());
  auto self = std::static_pointer_cast<connection>(con.get_shared());
  asio::post(s.ws.get_io_service(), [self] {
    self->terminate(websocketpp::error::make_error_code(websocketpp::error::general));
  });
}

std::size_t ws_peer::queued_bytes() const {
  return static_cast<const connection&>(*this).get_buffered_amount();
}

void ws_peer::close() {
  if (closing_ || !server_) return;
  closing_ = true;
  auto& con = static_cast<connection&>(*this);
  std::error_code ec;
  con.close(close_code::going_away, "server shutting down", ec);
}

web_server::web_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::tcp::endpoint& at)
    : impl_(std::make_unique<impl>(io, cfg, h, m, bp)) {
  impl_->owner = this;
  impl_->ws.listen(at);
}

web_server::~web_server() = default;

asio::ip::tcp::endpoint web_server::local_endpoint() const {
  std::error_code ec;
  return impl_->ws.get_local_endpoint(ec);
}

void web_server::start() { impl_->do_accept(); }

void web_server::stop() {
  impl_->stopping = true;
  impl_->backoff.cancel();
  std::error_code ec;
  impl_->ws.stop_listening(ec);
}

}  // namespace chatgate
