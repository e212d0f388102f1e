// The link over WebSocket: websocketpp's client on the same io_context,
// single-threaded and silent, one text frame per JSON object; wss:// with
// websocketpp's TLS transport.
#include <type_traits>

#include <websocketpp/client.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_client.hpp>
#include <websocketpp/logger/stub.hpp>

#include "client/link.hpp"
#include "client/tls.hpp"

namespace chatgate::client {
namespace {

// websocketpp's client config (Base: plain or TLS), single-threaded and silent.
template <class Base>
struct quiet_client_config : Base {
  using type = quiet_client_config;
  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;

  struct transport_config : Base::transport_config {
    using concurrency_type = quiet_client_config::concurrency_type;
    using alog_type = quiet_client_config::alog_type;
    using elog_type = quiet_client_config::elog_type;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};
using ws_client_config = quiet_client_config<websocketpp::config::asio_client>;
using wss_client_config = quiet_client_config<websocketpp::config::asio_tls_client>;

namespace close_code = websocketpp::close::status;

// A history of 100 long messages is about 0.5 MB; leave room.
constexpr std::size_t max_frame_bytes = 16 << 20;
constexpr long close_timeout_ms = 1000;

constexpr bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// The URL with ?token= (a JWT is URL-safe already; anything else is escaped).
std::string with_token(const target& to) {
  if (to.token.empty()) return to.url;
  std::string url = to.url + (to.url.find('?') == std::string::npos ? "?token=" : "&token=");
  static const char hex[] = "0123456789ABCDEF";
  for (char c : to.token) {
    if (is_unreserved(c)) {
      url.push_back(c);
    } else {
      url.push_back('%');
      url.push_back(hex[static_cast<unsigned char>(c) >> 4]);
      url.push_back(hex[static_cast<unsigned char>(c) & 15]);
    }
  }
  return url;
}

template <class Config>
class ws_link final : public link {
  using ws_client = websocketpp::client<Config>;
  using connection_ptr = typename ws_client::connection_ptr;
  using message_ptr = typename Config::message_type::ptr;
  static constexpr bool tls = std::is_same_v<Config, wss_client_config>;

 public:
  ws_link(asio::io_context& io, target to) : to_(std::move(to)) {
    client_.init_asio(&io);
    client_.set_max_message_size(max_frame_bytes);
    client_.set_close_handshake_timeout(close_timeout_ms);
    client_.set_user_agent("chatgate-client/" CHATGATE_VERSION);
    if constexpr (tls) {
      client_.set_tls_init_handler([this](websocketpp::connection_hdl) {
        std::string error;
        tls_context_ptr ctx = make_tls_context(to_, error);
        if (!ctx) {
          // Trusting nothing: the handshake fails with the reason.
          ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
          ctx->set_verify_mode(asio::ssl::verify_peer);
        }
        return ctx;
      });
      client_.set_socket_init_handler([this](websocketpp::connection_hdl, asio::ssl::stream<asio::ip::tcp::socket>& s) {
        prepare_tls(s.native_handle(), to_);
      });
    }
  }

  void start(callbacks cb) override {
    cb_ = std::move(cb);
    std::error_code ec;
    con_ = client_.get_connection(with_token(to_), ec);
    if (ec) {
      closed_ = true;
      return report("bad URL " + to_.url + ": " + ec.message());
    }
    con_->set_open_handler([this](websocketpp::connection_hdl) { on_open(); });
    con_->set_message_handler([this](websocketpp::connection_hdl, message_ptr msg) {
      if (!closed_) cb_.on_data(msg->get_payload());
    });
    con_->set_fail_handler([this](websocketpp::connection_hdl) { on_fail(); });
    con_->set_close_handler([this](websocketpp::connection_hdl) { on_closed(); });
    client_.connect(con_);
  }

  void send(std::string data) override {
    if (closed_ || !open_) return;
    std::error_code ec;
    client_.send(con_, data, websocketpp::frame::opcode::text, ec);
    if (ec) fail("cannot send to " + to_.url + ": " + ec.message());
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    std::error_code ec;
    if (con_ && open_) con_->close(close_code::normal, "bye", ec);
    if (!con_ || !open_ || ec) {
      if (con_) con_->terminate(ec);
      report({});
    }
  }

 private:
  void on_open() {
    open_ = true;
    if (!closed_) cb_.on_open();
  }

  void on_fail() {
    const std::string why = describe_failure();
    if (closed_) return report({});
    closed_ = true;
    report(why);
  }

  void on_closed() {
    if (closed_) return report({});
    closed_ = true;
    const auto code = con_->get_remote_close_code();
    std::string why = std::string(code == close_code::going_away ? "the server is shutting down"
                                                                  : "the server closed the connection") +
                      " (" + std::to_string(code) + " " + close_code::get_string(code);
    if (!con_->get_remote_close_reason().empty()) why += ": " + con_->get_remote_close_reason();
    report(why + ")");
  }

  std::string describe_failure() const {
    const int status = con_->get_response_code();
    if (status == 503) return "the server at " + to_.url + " is full (HTTP 503)";
    if (status == 401)
      return to_.token.empty() ? "the server at " + to_.url + " requires a token (HTTP 401): use --token JWT"
                               : "the server at " + to_.url + " refused the token (HTTP 401)";
    if (status != 0 && status != 101)
      return "cannot open " + to_.url + ": the server answered HTTP " + std::to_string(status) +
             (status == 404 ? " (the chat is at /ws)" : "");
    if constexpr (tls) {
      namespace sock = websocketpp::transport::asio::socket;
      if (con_->get_ec() == sock::make_error_code(sock::error::tls_handshake_failed))
        return describe_tls_failure(con_->get_socket().native_handle(), to_, con_->get_ec().message());
    }
    return "cannot connect to " + to_.url + ": " + con_->get_ec().message();
  }

  void fail(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    report(why);
    std::error_code ignored;
    con_->terminate(ignored);
  }

  // on_close exactly once, and not from inside websocketpp's own call stack.
  void report(std::string why) {
    if (reported_) return;
    reported_ = true;
    asio::post(client_.get_io_service(), [cb = cb_, why = std::move(why)] { cb.on_close(why); });
  }

  target to_;
  ws_client client_;
  connection_ptr con_;
  callbacks cb_;
  bool open_ = false;
  bool closed_ = false;
  bool reported_ = false;
};

}  // namespace

std::shared_ptr<link> make_ws_link(asio::io_context& io, const target& to) {
  if (to.tls) return std::make_shared<ws_link<wss_client_config>>(io, to);
  return std::make_shared<ws_link<ws_client_config>>(io, to);
}

}  // namespace chatgate::client
