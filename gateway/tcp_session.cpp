#include "gateway/tcp_session.hpp"

#include <spdlog/spdlog.h>

#include "gateway/sockets.hpp"
#include "gateway/tcp_server.hpp"
#include "protocol/json_request.hpp"
#include "protocol/proxy_header.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

// Room for the command in front of a text message (`/me `), so that the
// message cap applies to the text itself.
constexpr std::size_t command_slack = 64;
// Reads per readiness before letting other sockets have a turn.
constexpr int reads_per_turn = 4;

}  // namespace

tcp_session::tcp_session(asio::ip::tcp::socket socket, tcp_server& server)
    : socket_(std::move(socket)),
      server_(server),
      peer_(peer_text(socket_)),
      framer_(server.cfg_.max_message_bytes + command_slack) {}

void tcp_session::start() {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  id_ = server_.hub_.connect(*this, protocol::via::tcp, /*json=*/false);
  spdlog::info("tcp {} connected (client {})", peer_, id_);
  do_read();
}

// --- input ------------------------------------------------------------------

void tcp_session::do_read() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](std::error_code ec) { self->on_readable(ec); });
}

void tcp_session::on_readable(std::error_code ec) {
  if (stopped_) return;
  if (ec) return stop(ec == asio::error::operation_aborted ? nullptr : "read failed");
  std::string& buf = server_.scratch_;
  for (int i = 0; i < reads_per_turn && !closing_; ++i) {
    const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) return do_read();
    if (ec == asio::error::eof) return on_end_of_input();
    if (ec) return stop("read failed");
    on_bytes(std::string_view(buf.data(), n));
  }
  if (closing_) return;
  // More may be waiting: come back after the other sockets had a turn.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_readable({}); });
}

void tcp_session::on_bytes(std::string_view bytes) {
  if (!saw_first_byte_ && !bytes.empty()) {
    saw_first_byte_ = true;
    if (bytes.front() == '{') server_.hub_.switch_to_json(id_);
  }
  framer_.feed(
      bytes, [this](std::string_view line) { return on_line(line); },
      [this] { return on_too_long(); });
  last_byte_ = std::chrono::steady_clock::now();
  if (framer_.has_partial()) arm_idle_timer();
}

void tcp_session::on_end_of_input() {
  // A program that sends and then half-closes still gets its last line
  // handled and every answer written before the connection closes.
  framer_.flush([this](std::string_view line) { return on_line(line); });
  close();
}

bool tcp_session::on_line(std::string_view line) {
  if (closing_) return false;
  hub& h = server_.hub_;
  if (server_.cfg_.trust_proxy && !proxy_checked_) {
    proxy_checked_ = true;
    if (auto source = protocol::parse_proxy_v1(line)) {
      spdlog::info("tcp {} is {} (PROXY header, client {})", peer_, *source, id_);
      peer_ = *source;
      return true;
    }
  }
  if (!saw_first_line_) {
    proxy_checked_ = saw_first_line_ = true;
    // After a PROXY header the first byte check could not see this line.
    if (!json_ && !line.empty() && line.front() == '{') h.switch_to_json(id_);
  }
  if (json_) {
    if (line.find_first_not_of(" \t") != std::string_view::npos)
      h.handle(id_, protocol::parse_json_request(line));
  } else if (auto request = protocol::parse_text_line(line)) {
    h.handle(id_, std::move(*request));
  }
  return !closing_;
}

bool tcp_session::on_too_long() {
  server_.hub_.handle(
      id_, protocol::request{protocol::req::invalid{protocol::error_code::too_long, "message too long"},
                             nullptr});
  return !closing_;
}

void tcp_session::arm_idle_timer() {
  if (!idle_timer_) idle_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  idle_timer_->expires_at(last_byte_ + std::chrono::milliseconds(server_.cfg_.line_idle_ms));
  idle_timer_->async_wait([self = shared_from_this()](std::error_code ec) { self->on_idle(ec); });
}

void tcp_session::on_idle(std::error_code ec) {
  if (ec || stopped_ || closing_) return;
  // A newer byte re-armed the timer; this wake-up is stale.
  if (std::chrono::steady_clock::now() < last_byte_ + std::chrono::milliseconds(server_.cfg_.line_idle_ms))
    return;
  framer_.flush([this](std::string_view line) { return on_line(line); });
  idle_timer_.reset();
}

// --- output -----------------------------------------------------------------

void tcp_session::deliver(const shared_bytes& bytes) {
  if (closing_ || stopped_) return;
  if (queued_bytes_ + bytes->size() > server_.cfg_.max_queue_bytes) return drop_slow();
  const bool idle = queue_.empty() && writing_.empty();
  queue_.push_back(bytes);
  queued_bytes_ += bytes->size();
  server_.pressure_.check(*this);
  // Whatever else this loop pass delivers goes out in the same write.
  if (idle) asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void tcp_session::drop_slow() {
  if (closing_ || stopped_) return;
  // Nobody waits for a client that does not read: drop it, from the loop.
  server_.metrics_.count_drop(drop_reason::slow_consumer);
  spdlog::info("tcp {} dropped: not reading, {} bytes queued (client {})", peer_, queued_bytes_, id_);
  closing_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->stop(nullptr); });
}

void tcp_session::do_write() {
  if (stopped_ || !writing_.empty()) return;
  if (queue_.empty()) {
    if (closing_) stop(nullptr);
    return;
  }
  writing_.swap(queue_);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const auto& b : writing_) buffers.emplace_back(asio::buffer(*b));
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](std::error_code ec, std::size_t n) {
                      self->on_write(ec, n);
                    });
}

void tcp_session::on_write(std::error_code ec, std::size_t n) {
  if (stopped_) return;
  if (ec) return stop(ec == asio::error::operation_aborted ? nullptr : "write failed");
  queued_bytes_ -= n;
  writing_.clear();
  // A burst (a history replay, a crowd joining) must not leave an idle
  // connection holding a large empty vector.
  if (writing_.capacity() > 64) writing_.shrink_to_fit();
  do_write();
}

void tcp_session::close() {
  if (closing_ || stopped_) return;
  closing_ = true;
  // Flush what is queued, then close (do_write ends with stop()); a client
  // that does not read gets a little time, not forever.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  arm_close_deadline();
}

void tcp_session::arm_close_deadline() {
  if (!idle_timer_) idle_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  idle_timer_->expires_after(std::chrono::seconds(2));
  idle_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->stop("close timed out");
  });
}

void tcp_session::use_json() {
  json_ = true;
  framer_.set_max_line(server_.cfg_.max_frame_bytes);
}

void tcp_session::stop(const char* why) {
  if (stopped_) return;
  stopped_ = true;
  closing_ = true;
  if (why) spdlog::debug("tcp {}: {}", peer_, why);
  spdlog::info("tcp {} disconnected (client {})", peer_, id_);
  server_.hub_.disconnect(id_);
  server_.pressure_.forget(*this);
  std::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  if (idle_timer_) idle_timer_->cancel();
  queue_.clear();
  writing_.clear();
}

}  // namespace chatgate
