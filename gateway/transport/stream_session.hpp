// What every chat connection on a TCP socket shares, whatever its framing
// (text or NDJSON lines, WebSocket frames): the read loop over a shared
// buffer, and a capped queue of shared buffers written with one gathered
// write per loop pass.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio.hpp>

#include "gateway/transport/backpressure.hpp"
#include "gateway/ops/config.hpp"
#include "gateway/transport/flusher.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/hub/participant.hpp"
#include "gateway/transport/poller.hpp"
#include "gateway/transport/tls_context.hpp"

namespace chatgate {

// What a listener lends its sessions.
struct session_context {
  const config& cfg;
  hub& chat;
  metrics& stats;
  backpressure& pressure;
  // One read buffer for every session: the loop reads one socket at a time,
  // so an idle connection holds no buffer of its own.
  std::string scratch = std::string(64 * 1024, '\0');
  flusher writes{};
  // Declared last, destroyed first: sessions it still holds at exit go
  // while the rest of the context is there.
  poller readiness{};
};

class stream_session : public participant, public std::enable_shared_from_this<stream_session> {
 public:
  void deliver(const shared_bytes& bytes) override;
  void drop_slow() override;
  std::size_t queued_bytes() const override { return queued_bytes_; }
  ~stream_session() override;

  // The loop this session runs on.
  asio::io_context::executor_type executor() const { return ctx_.readiness.io().get_executor(); }

 protected:
  // `kind` names the transport in logs ("tcp", "ws").
  stream_session(asio::ip::tcp::socket&& socket, session_context& ctx, std::string peer,
                 const char* kind);
  // Over TLS, after the handshake: the same queue, written through the
  // stream (see flush_tls); `keep` is the context the stream was made with.
  stream_session(std::unique_ptr<tls_stream>&& tls, tls_context_ptr keep, session_context& ctx,
                 std::string peer, const char* kind);

  // Registers with the hub and starts reading; `token` (may be empty) was
  // presented at connection time (WebSocket `?token=`).
  void begin(protocol::via source, bool json, std::string token = {});
  // For a transport that registers later (IRC): reads first, then attach()
  // makes it a hub client, with the nick it chose when that is free.
  void begin_unattached();
  void attach(protocol::via source, bool json, const std::string& nick, std::string token = {});

  // Bytes just read; the buffer is the shared scratch, writable, and only
  // valid during the call.
  virtual void on_bytes(char* data, std::size_t size) = 0;
  // The peer closed its side.
  virtual void on_end_of_input() = 0;

  // Queues bytes outside the --max-queue-bytes cap (a closing frame).
  void push(shared_bytes bytes);
  // No more input is handled: flush what is queued, then close; a client
  // that does not read gets 2 s, not forever. Safe to call twice.
  void finish();
  // Ends the connection now (hub, socket); safe to call twice.
  void stop(const char* why);

  // A timer for the subclass's own use, made on first use.
  asio::steady_timer& timer();

  bool secure() const { return tls_ != nullptr; }

  session_context& ctx_;
  std::string peer_;
  client_id id_ = 0;
  // A plain connection's socket, watched by ctx_.readiness; -1 over TLS
  // (the stream owns the socket) and once closed.
  int fd_ = -1;
  bool closing_ = false;  // no more input; close once the queue is flushed
  bool stopped_ = false;

 private:
  // Next to the flags above, so they share one word.
  bool flush_scheduled_ = false;   // in the flusher's list
  bool waiting_writable_ = false;  // the socket is full; waiting for room (TLS: a write in flight)

  friend class flusher;
  friend class poller;

  // Socket options, then the read loop (plain or TLS).
  void start_reading();
  // Plain sockets: what the poller saw (EPOLLIN, EPOLLOUT, ...).
  void on_events(std::uint32_t events);
  void on_readable();
  void do_read_tls();
  void flush_tls();
  // Moves the records waiting in tls_->wbio to tls_->out; returns their size.
  std::size_t take_tls_output();
  // `sent` bytes from the front of the queue went out.
  void consume(std::size_t sent);
  void after_flush();
  void want_flush();
  // Writes what the socket takes now; waits for it to drain if it takes less.
  void flush();
  template <class F>
  void later(F&& f) {
    asio::post(executor(), [self = shared_from_this(), f = std::forward<F>(f)] { f(*self); });
  }

  // TLS only: the stream (it owns the socket; fd_ is -1), the
  // context it came from, its own read buffer (reads are asynchronous, so
  // the shared scratch cannot be used), the memory BIO the SSL writes
  // records to (the SSL owns it), and the records not written yet.
  // Behind one pointer, so a plain connection pays 8 bytes for it, not 88.
  struct tls_parts {
    std::unique_ptr<tls_stream> stream;
    tls_context_ptr keep;
    std::string in;
    BIO* wbio = nullptr;  // a record at a time: holds at most ~17 KB
    std::string out;
    std::size_t sent = 0;  // bytes of out already written
  };

  const char* kind_;
  std::unique_ptr<asio::steady_timer> timer_;
  std::vector<shared_bytes> queue_;  // waiting to be written, oldest first
  std::size_t written_ = 0;          // bytes of queue_.front() already written
  std::size_t queued_bytes_ = 0;     // unwritten bytes in queue_
  std::unique_ptr<tls_parts> tls_;
};

}  // namespace chatgate
