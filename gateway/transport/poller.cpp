#include "gateway/transport/poller.hpp"

#include <unistd.h>

#include <cerrno>

#include "gateway/transport/stream_session.hpp"

namespace chatgate {

poller::~poller() {
  // Whatever is still watched (a shutdown that abandoned clients) goes now;
  // a session closes its own descriptor when it is destroyed.
  by_fd_.clear();
  watch_.reset();  // closes epoll_fd_
}

std::error_code poller::open() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return {errno, std::system_category()};
  watch_ = std::make_unique<asio::posix::stream_descriptor>(*io_, epoll_fd_);
  return {};
}

std::error_code poller::add(int fd, std::shared_ptr<stream_session> s) {
  if (epoll_fd_ < 0)
    if (auto ec = open()) return ec;
  const auto slot = static_cast<std::size_t>(fd);
  if (slot >= by_fd_.size()) {
    // Grown by an eighth, not doubled: the table costs 16 bytes a connection.
    if (slot >= by_fd_.capacity()) by_fd_.reserve(slot + slot / 8 + 1024);
    by_fd_.resize(slot + 1);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return {errno, std::system_category()};
  by_fd_[slot] = std::move(s);
  arm();
  return {};
}

void poller::remove(int fd) {
  const auto slot = static_cast<std::size_t>(fd);
  if (fd < 0 || slot >= by_fd_.size() || !by_fd_[slot]) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  // Not destroyed here: the caller is a method of this very session.
  asio::post(*io_, [gone = std::move(by_fd_[slot])] {});
}

void poller::arm() {
  if (armed_ || !watch_) return;
  armed_ = true;
  watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](std::error_code ec) {
    armed_ = false;
    if (!ec) run();
  });
}

void poller::run() {
  // Until the set reports nothing: Linux re-queues an event that arrives
  // while epoll_wait is handing out others without waking the set's own
  // watchers (Asio's epoll here), so arming after a call that returned
  // events could miss it for good. A call that returns nothing had nothing
  // in flight: from then on every event wakes Asio.
  std::size_t budget = events_.size();
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      const auto slot = static_cast<std::size_t>(events_[i].data.fd);
      // A session stopped earlier in this batch has left its slot.
      if (slot >= by_fd_.size() || !by_fd_[slot]) continue;
      std::shared_ptr<stream_session> s = by_fd_[slot];
      s->on_events(events_[i].events);
    }
    if (static_cast<std::size_t>(n) >= budget) {
      // A full turn's worth: let the rest of the loop run, then come back
      // on our own (Asio only reports new readiness of the set).
      asio::post(*io_, [this] { run(); });
      return;
    }
    budget -= static_cast<std::size_t>(n);
  }
  arm();
}

}  // namespace chatgate
