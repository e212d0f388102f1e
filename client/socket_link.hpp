// What the TCP and UDP links share: resolve the target, a queue of outgoing
// bytes sent one piece at a time, a read loop, and one way to end. The
// derived link connects (on_resolve), starts its reads and writes (do_read,
// do_write) and words its errors (read_error, write_error).
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>

#include <asio.hpp>

#include "client/link.hpp"

namespace chatgate::client {

template <class Protocol, class Derived>
class socket_link : public link, public std::enable_shared_from_this<Derived> {
 public:
  socket_link(asio::io_context& io, target to) : resolver_(io), socket_(io), to_(std::move(to)) {}

  void start(callbacks cb) override {
    cb_ = std::move(cb);
    resolver_.async_resolve(to_.host, to_.port,
                            [self = this->shared_from_this()](
                                std::error_code ec, typename Protocol::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

  void close() override {
    if (closed_) return;
    end();
    asio::post(socket_.get_executor(), [cb = cb_] { cb.on_close({}); });
  }

 protected:
  void enqueue(std::string data) {
    if (closed_) return;
    queue_.push_back(std::move(data));
    if (queue_.size() == 1 && open_) derived().do_write();
  }

  // Connected: send what waited, tell the session, start reading.
  void opened() {
    open_ = true;
    if (!queue_.empty()) derived().do_write();
    cb_.on_open();
    if (!closed_) derived().do_read();
  }

  void on_read(std::error_code ec, std::size_t n) {
    if (closed_) return;
    if (ec) return fail(derived().read_error(ec));
    cb_.on_data(std::string_view(buffer_.data(), n));
    if (!closed_) derived().do_read();
  }

  void on_written(std::error_code ec) {
    if (closed_) return;
    if (ec) return fail(derived().write_error(ec));
    queue_.pop_front();
    if (!queue_.empty()) derived().do_write();
  }

  void fail(const std::string& why) {
    end();
    cb_.on_close(why);
  }

  typename Protocol::resolver resolver_;
  typename Protocol::socket socket_;
  target to_;
  callbacks cb_;
  std::array<char, 65536> buffer_{};
  std::deque<std::string> queue_;
  bool closed_ = false;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void end() {
    closed_ = true;
    std::error_code ignored;
    resolver_.cancel();
    // The queue stays: a write in flight still points into it.
    socket_.close(ignored);
  }

  bool open_ = false;
};

}  // namespace chatgate::client
