// websocketpp's configuration for chatgate: single-threaded (the loop owns
// everything), no logging on the hot path. websocketpp serves HTTP and the
// opening handshake; a ws_session takes the socket over after it.
#pragma once

// websocketpp's own headers warn under -Wextra; they are system headers in
// the build.
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio.hpp>
#include <websocketpp/logger/stub.hpp>
#include <websocketpp/processors/hybi13.hpp>

namespace chatgate {

// `Base` is websocketpp::config::asio, or asio_tls over TLS (--tls-cert):
// websocketpp does the TLS handshake and HTTPS, and the ws_session takes
// the TLS stream over after the upgrade.
template <class Base>
struct ws_config_over : Base {
  using type = ws_config_over;
  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;

  struct transport_config : Base::transport_config {
    using concurrency_type = ws_config_over::concurrency_type;
    using alog_type = ws_config_over::alog_type;
    using elog_type = ws_config_over::elog_type;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  // Only the HTTP request goes through websocketpp's connection buffer.
  static const size_t connection_read_buffer_size = 1024;
};

using ws_config = ws_config_over<websocketpp::config::asio>;
using ws_tls_config = ws_config_over<websocketpp::config::asio_tls>;

// Frame parsing after the handshake: masking, fragments, control frames,
// UTF-8 and size checks.
using ws_processor = websocketpp::processor::hybi13<ws_config>;

// The processor, and whether it holds anything worth keeping: between
// messages (no frame begun, no fragmented message open) it can be dropped
// and made again for the next frame, so an idle WebSocket keeps none.
struct ws_frames : ws_processor {
  using ws_processor::ws_processor;
  bool between_messages() const {
    return m_state == HEADER_BASIC && m_bytes_needed == websocketpp::frame::BASIC_HEADER_LENGTH &&
           !m_data_msg.msg_ptr && !m_control_msg.msg_ptr;
  }
};
using ws_message_ptr = ws_config::message_type::ptr;

// What every ws_session's processor borrows.
struct ws_shared {
  ws_config::con_msg_manager_type::ptr messages =
      std::make_shared<ws_config::con_msg_manager_type>();
  ws_config::rng_type rng;
};

}  // namespace chatgate
