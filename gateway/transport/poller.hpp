// Readiness for plain chat sockets without Asio's per-socket state.
//
// Asio keeps, for every socket it watches, a reactor descriptor_state
// (176 bytes) and, while a read wait is pending, an operation (112 bytes):
// a third of an idle connection. Plain (non-TLS) sessions instead register
// their descriptor, edge-triggered, in one epoll set of our own, which Asio
// watches as a single descriptor. An idle connection then costs one
// epoll item in the kernel and one slot here (a shared_ptr, 16 bytes).
//
// The slots own the sessions registered here (a session is kept alive while
// its socket is watched, as a pending read kept it alive before); a session
// leaves with remove() when it stops.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include <asio.hpp>

namespace chatgate {

class stream_session;

class poller {
 public:
  poller() = default;
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // The loop every session of this listener runs on; set by the first one.
  void bind(asio::io_context& io) {
    if (!io_) io_ = &io;
  }
  asio::io_context& io() const { return *io_; }

  // Watches `fd` (input, output, peer hang-up; edge-triggered) for `s`,
  // which it keeps alive until remove(fd).
  std::error_code add(int fd, std::shared_ptr<stream_session> s);
  // Stops watching `fd` (before it is closed) and lets its session go.
  void remove(int fd);

 private:
  std::error_code open();
  void arm();
  void run();

  asio::io_context* io_ = nullptr;
  int epoll_fd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> watch_;  // epoll_fd_, as Asio sees it
  std::vector<std::shared_ptr<stream_session>> by_fd_;   // the session of each fd
  bool armed_ = false;
  std::array<epoll_event, 256> events_{};
};

}  // namespace chatgate
