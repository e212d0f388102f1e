#include "gateway/stream_session.hpp"

#include <spdlog/spdlog.h>

namespace chatgate {
namespace {

// Reads per readiness before letting other sockets have a turn.
constexpr int reads_per_turn = 4;
// How long a closing connection may take to take its last bytes.
constexpr std::chrono::seconds close_deadline{2};

}  // namespace

stream_session::stream_session(asio::ip::tcp::socket&& socket, session_context& ctx, std::string peer,
                               const char* kind)
    : socket_(std::move(socket)), ctx_(ctx), peer_(std::move(peer)), kind_(kind) {}

void stream_session::begin(protocol::via source, bool json) {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  id_ = ctx_.chat.connect(*this, source, json);
  spdlog::info("{} {} connected (client {})", kind_, peer_, id_);
  do_read();
}

asio::steady_timer& stream_session::timer() {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  return *timer_;
}

// --- input ------------------------------------------------------------------

void stream_session::do_read() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](std::error_code ec) { self->on_readable(ec); });
}

void stream_session::on_readable(std::error_code ec) {
  if (stopped_) return;
  if (ec) return stop(ec == asio::error::operation_aborted ? nullptr : "read failed");
  std::string& buf = ctx_.scratch;
  for (int i = 0; i < reads_per_turn && !closing_; ++i) {
    const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) return do_read();
    if (ec == asio::error::eof) return on_end_of_input();
    if (ec) return stop("read failed");
    on_bytes(buf.data(), n);
  }
  if (closing_) return;
  // More may be waiting: come back after the other sockets had a turn.
  later([](stream_session& s) { s.on_readable({}); });
}

// --- output -----------------------------------------------------------------

void stream_session::deliver(const shared_bytes& bytes) {
  if (closing_ || stopped_) return;
  if (queued_bytes_ + bytes->size() > ctx_.cfg.max_queue_bytes) return drop_slow();
  push(bytes);
  ctx_.pressure.check(*this);
}

void stream_session::push(shared_bytes bytes) {
  if (stopped_) return;
  const bool idle = queue_.empty() && writing_.empty();
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  // Whatever else this loop pass queues goes out in the same write.
  if (idle) later([](stream_session& s) { s.do_write(); });
}

void stream_session::drop_slow() {
  if (closing_ || stopped_) return;
  // Nobody waits for a client that does not read: drop it, from the loop.
  ctx_.stats.count_drop(drop_reason::slow_consumer);
  spdlog::info("{} {} dropped: not reading, {} bytes queued (client {})", kind_, peer_,
               queued_bytes_, id_);
  closing_ = true;
  later([](stream_session& s) { s.stop(nullptr); });
}

void stream_session::do_write() {
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

void stream_session::on_write(std::error_code ec, std::size_t n) {
  if (stopped_) return;
  if (ec) return stop(ec == asio::error::operation_aborted ? nullptr : "write failed");
  queued_bytes_ -= n;
  writing_.clear();
  // A burst (a history replay, a crowd joining) must not leave an idle
  // connection holding a large empty vector.
  if (writing_.capacity() > 64) writing_.shrink_to_fit();
  do_write();
}

void stream_session::finish() {
  if (closing_ || stopped_) return;
  closing_ = true;
  later([](stream_session& s) { s.do_write(); });
  timer().expires_after(close_deadline);
  timer().async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->stop("close timed out");
  });
}

void stream_session::stop(const char* why) {
  if (stopped_) return;
  stopped_ = true;
  closing_ = true;
  if (why) spdlog::debug("{} {}: {}", kind_, peer_, why);
  spdlog::info("{} {} disconnected (client {})", kind_, peer_, id_);
  ctx_.chat.disconnect(id_);
  ctx_.pressure.forget(*this);
  std::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  if (timer_) timer_->cancel();
  queue_.clear();
  writing_.clear();
  queued_bytes_ = 0;
}

}  // namespace chatgate
