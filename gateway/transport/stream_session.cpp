#include "gateway/transport/stream_session.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

namespace chatgate {
namespace {

// Reads per readiness before letting other sockets have a turn.
constexpr int reads_per_turn = 4;
// How long a closing connection may take to take its last bytes.
constexpr std::chrono::seconds close_deadline{2};
// Buffers per write, and writes per flush before the next session's turn.
constexpr std::size_t max_iov = 64;
constexpr int rounds_per_flush = 4;
// The kernel's send buffer of a chat socket (it doubles the figure for its
// bookkeeping). Left to autotuning, loopback grows it to several MB: a
// client that never reads then looks like a reader for as long as that
// takes to fill, and costs the kernel that much. --max-queue-bytes is the
// buffer; this is only enough to keep a fast reader's socket busy.
constexpr int send_buffer_bytes = 64 * 1024;

void cap_send_buffer(int fd) { ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer_bytes, sizeof send_buffer_bytes); }

asio::io_context& io_of(const asio::any_io_executor& executor) {
  // Every listener runs on the one io_context.
  return static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
}

// Takes the accepted socket's descriptor out of Asio (see poller): the
// session reads and writes it itself. -1 if that fails.
int adopt(asio::ip::tcp::socket& accepted, session_context& ctx) {
  ctx.readiness.bind(io_of(accepted.get_executor()));
  std::error_code ec;
  const int fd = accepted.release(ec);
  return ec ? -1 : fd;
}

}  // namespace

stream_session::stream_session(asio::ip::tcp::socket&& socket, session_context& ctx, std::string peer,
                               const char* kind)
    : ctx_(ctx), peer_(std::move(peer)), fd_(adopt(socket, ctx)), kind_(kind) {}

stream_session::stream_session(std::unique_ptr<tls_stream>&& tls, tls_context_ptr keep,
                               session_context& ctx, std::string peer, const char* kind)
    : ctx_(ctx),
      peer_(std::move(peer)),
      kind_(kind),
      tls_(std::make_unique<tls_parts>(tls_parts{std::move(tls), std::move(keep), {}, nullptr, {}, 0})) {
  ctx.readiness.bind(io_of(tls_->stream->get_executor()));
}

stream_session::~stream_session() {
  // Abandoned at exit without stop(): the descriptor still needs closing.
  if (fd_ >= 0) ::close(fd_);
}

void stream_session::begin(protocol::via source, bool json, std::string token) {
  id_ = ctx_.chat.connect(*this, source, json, /*counted=*/true, /*nick=*/{}, std::move(token));
  start_reading();
}

void stream_session::begin_unattached() { start_reading(); }

void stream_session::start_reading() {
  if (tls_) {
    std::error_code ec;
    asio::ip::tcp::socket& raw = tls_->stream->next_layer();
    raw.non_blocking(true, ec);
    raw.set_option(asio::ip::tcp::no_delay(true), ec);
    cap_send_buffer(raw.native_handle());
    // After the handshake, records go into a memory BIO and out through the
    // same non-blocking writes as plain bytes (flush_tls), instead of one
    // asio composed write per flush; reads stay with the stream. (SSL_set_bio
    // gave the SSL one reference to the pair's BIO for reading and one for
    // writing; SSL_set0_wbio releases the writing one.)
    SSL* ssl = tls_->stream->native_handle();
    tls_->wbio = BIO_new(BIO_s_mem());
    if (!tls_->wbio) return stop("out of memory");
    SSL_set0_wbio(ssl, tls_->wbio);
  }
  if (id_) spdlog::info("{} {} connected{} (client {})", kind_, peer_, tls_ ? " over TLS" : "", id_);
  else spdlog::info("{} {} connected{}", kind_, peer_, tls_ ? " over TLS" : "");
  if (tls_) return do_read_tls();
  if (fd_ < 0) return stop("socket lost");
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  cap_send_buffer(fd_);
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) return stop("cannot make the socket non-blocking");
  // Edge-triggered: input already waiting is reported at once.
  if (auto ec = ctx_.readiness.add(fd_, shared_from_this())) {
    spdlog::warn("{} {}: cannot watch the socket: {}", kind_, peer_, ec.message());
    return stop(nullptr);
  }
}

void stream_session::attach(protocol::via source, bool json, const std::string& nick, std::string token) {
  id_ = ctx_.chat.connect(*this, source, json, /*counted=*/true, nick, std::move(token));
  spdlog::info("{} {} registered as client {}", kind_, peer_, id_);
}

asio::steady_timer& stream_session::timer() {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(executor());
  return *timer_;
}

// --- input ------------------------------------------------------------------

void stream_session::on_events(std::uint32_t events) {
  if (stopped_) return;
  // Edge-triggered: each edge is acted on now, or it is not seen again.
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && waiting_writable_) {
    waiting_writable_ = false;
    flush();
  }
  if (stopped_ || closing_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) on_readable();
}

void stream_session::on_readable() {
  if (stopped_ || closing_) return;
  std::string& buf = ctx_.scratch;
  for (int i = 0; i < reads_per_turn && !closing_; ++i) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    // Nothing more until the next edge.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // A program that sends a line and closes before reading our welcome
    // makes its kernel answer the welcome with a reset: what it sent before
    // is still its input, as at an orderly end.
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return on_end_of_input();
    if (n < 0) return stop("read failed");
    on_bytes(buf.data(), static_cast<std::size_t>(n));
  }
  if (closing_) return;
  // More may be waiting, and no new edge will say so: come back after the
  // other sockets had a turn.
  later([](stream_session& s) { s.on_readable(); });
}

void stream_session::do_read_tls() {
  // One read at a time into this session's buffer; the TLS record layer
  // holds what arrived beyond it.
  if (tls_->in.empty()) tls_->in.resize(16 * 1024);
  tls_->stream->async_read_some(asio::buffer(tls_->in), [self = shared_from_this()](std::error_code ec, std::size_t n) {
    if (self->stopped_) return;
    // A reset after data ends the input like EOF, as on plain TCP.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset)
      return self->on_end_of_input();
    if (ec) return self->stop(ec == asio::error::operation_aborted ? nullptr : "read failed");
    self->on_bytes(self->tls_->in.data(), n);
    // Reading may have produced records to send (a TLS 1.3 key update).
    if (BIO_ctrl_pending(self->tls_->wbio) > 0) self->want_flush();
    if (!self->closing_) self->do_read_tls();
  });
}

// --- output -----------------------------------------------------------------

void stream_session::deliver(const shared_bytes& bytes) {
  if (closing_ || stopped_) return;
  // Full: shed this one (see backpressure); the client is dropped only if
  // its socket stops taking bytes.
  if (queued_bytes_ + bytes->size() > ctx_.cfg.max_queue_bytes) {
    ++ctx_.stats.shed;
    return ctx_.pressure.shed(*this);
  }
  push(bytes);
  ctx_.pressure.check(*this);
  // Overload may have begun after the socket filled up.
  if (waiting_writable_) ctx_.pressure.blocked(*this);
}

void stream_session::push(shared_bytes bytes) {
  if (stopped_) return;
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  want_flush();
}

void stream_session::want_flush() {
  // Whatever else is queued before the flusher gets here goes out in the
  // same write; a full socket is flushed when it has room again.
  if (flush_scheduled_ || waiting_writable_ || stopped_) return;
  flush_scheduled_ = true;
  ctx_.writes.schedule(shared_from_this());
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

void stream_session::flush() {
  flush_scheduled_ = false;
  if (stopped_ || waiting_writable_) return;
  if (tls_) return flush_tls();
  std::array<iovec, max_iov> iov;
  bool full = false;  // the socket took less than offered
  for (int round = 0; round < rounds_per_flush && !queue_.empty(); ++round) {
    const std::size_t count = std::min(iov.size(), queue_.size());
    for (std::size_t i = 0; i < count; ++i)
      iov[i] = iovec{const_cast<char*>(queue_[i]->data()), queue_[i]->size()};
    iov[0].iov_base = static_cast<char*>(iov[0].iov_base) + written_;
    iov[0].iov_len -= written_;
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      full = true;
      break;
    }
    if (sent < 0) return stop("write failed");
    const std::size_t before = queue_.size();
    consume(static_cast<std::size_t>(sent));
    if (before - queue_.size() < count) {
      full = true;
      break;
    }
  }
  if (queue_.empty()) return after_flush();
  // Not full, only our turn over: the flusher comes back on its next turn.
  if (!full) return want_flush();
  // Full: the poller's next EPOLLOUT edge (room in the socket) flushes again.
  waiting_writable_ = true;
  ctx_.pressure.blocked(*this);
}

void stream_session::consume(std::size_t sent) {
  if (queued_bytes_ >= ctx_.pressure.low_water()) ctx_.pressure.progress(*this);
  queued_bytes_ -= sent;
  // Drop what went out whole; remember how far into the next one we got.
  std::size_t done = 0;
  sent += written_;
  while (done < queue_.size() && sent >= queue_[done]->size()) sent -= queue_[done++]->size();
  written_ = sent;
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(done));
}

void stream_session::after_flush() {
  // A burst (a history replay, a crowd joining) must not leave an idle
  // connection holding a large empty vector.
  if (queue_.capacity() > 8) std::vector<shared_bytes>().swap(queue_);
  if (tls_ && tls_->out.capacity() > 16 * 1024) std::string().swap(tls_->out);
  if (closing_) stop(nullptr);
}

void stream_session::flush_tls() {
  // Plaintext from the queue is encrypted a record (16 KB) at a time into
  // tls_->out, then written like plain bytes: what the socket takes now,
  // the rest when it is writable again. A fan-out burst still costs one
  // record and one write per session, not one per message.
  constexpr std::size_t record = 16 * 1024;
  constexpr std::size_t max_out = 64 * 1024;
  SSL* ssl = tls_->stream->native_handle();
  asio::ip::tcp::socket& raw = tls_->stream->next_layer();
  std::string& out = tls_->out;
  std::size_t& out_sent = tls_->sent;
  char* plain = ctx_.scratch.data();  // not in a read: the shared buffer is free
  for (int round = 0; round < rounds_per_flush; ++round) {
    while (out.size() - out_sent < max_out && !queue_.empty()) {
      std::size_t len = 0;
      std::size_t skip = written_;
      for (std::size_t i = 0; i < queue_.size() && len < record; ++i, skip = 0) {
        const std::string& b = *queue_[i];
        const std::size_t take = std::min(b.size() - skip, record - len);
        std::memcpy(plain + len, b.data() + skip, take);
        len += take;
      }
      // A memory BIO takes everything: the write completes at once.
      if (SSL_write(ssl, plain, static_cast<int>(len)) != static_cast<int>(len)) return stop("tls write failed");
      consume(len);
      queued_bytes_ += take_tls_output();
    }
    queued_bytes_ += take_tls_output();  // records a read produced
    std::error_code ec;
    const std::size_t sent = out_sent == out.size()
                                 ? 0
                                 : raw.write_some(asio::buffer(out.data() + out_sent, out.size() - out_sent), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return stop("write failed");
    out_sent += sent;
    queued_bytes_ -= sent;
    if (out_sent < out.size()) break;  // the socket is full
    out.clear();
    out_sent = 0;
    if (queue_.empty()) return after_flush();
  }
  waiting_writable_ = true;
  ctx_.pressure.blocked(*this);
  raw.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](std::error_code ec) {
    self->waiting_writable_ = false;
    if (self->stopped_) return;
    if (ec) return self->stop(ec == asio::error::operation_aborted ? nullptr : "write failed");
    self->flush();
  });
}

std::size_t stream_session::take_tls_output() {
  std::string& out = tls_->out;
  const std::size_t pending = BIO_ctrl_pending(tls_->wbio);
  if (pending == 0) return 0;
  const std::size_t at = out.size();
  out.resize(at + pending);
  const int n = BIO_read(tls_->wbio, out.data() + at, static_cast<int>(pending));
  out.resize(at + static_cast<std::size_t>(std::max(n, 0)));
  return out.size() - at;
}

void stream_session::finish() {
  if (closing_ || stopped_) return;
  closing_ = true;
  want_flush();
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
  // TLS: no close_notify exchange; closing the socket ends pending operations.
  if (tls_) {
    asio::ip::tcp::socket& raw = tls_->stream->next_layer();
    raw.shutdown(asio::socket_base::shutdown_both, ignored);
    raw.close(ignored);
  }
  if (fd_ >= 0) {
    ctx_.readiness.remove(fd_);  // lets this session go after this turn
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
  if (timer_) timer_->cancel();
  queue_.clear();
  written_ = 0;
  queued_bytes_ = 0;
  if (tls_) {
    tls_->out.clear();
    tls_->sent = 0;
  }
}

}  // namespace chatgate
