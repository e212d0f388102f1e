#include "client/terminal.hpp"

#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace chatgate::client {

raw_mode::raw_mode(int fd) : fd_(fd) {
  if (tcgetattr(fd_, &saved_) != 0) return;
  termios raw = saved_;
  raw.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
  // Output processing stays on, so '\n' still starts a new line.
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = tcsetattr(fd_, TCSADRAIN, &raw) == 0;
}

void raw_mode::restore() {
  if (!active_) return;
  active_ = false;
  tcsetattr(fd_, TCSADRAIN, &saved_);
}

fd_flags_guard::fd_flags_guard(int fd) : fd_(fd), flags_(fcntl(fd, F_GETFL)) {}

fd_flags_guard::~fd_flags_guard() {
  if (flags_ != -1) fcntl(fd_, F_SETFL, flags_);
}

void ensure_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) ::open("/dev/null", O_RDWR);  // lowest free: fd
}

bool is_terminal(int fd) { return isatty(fd) == 1; }

unsigned terminal_columns(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
    } else {
      return;
    }
  }
}

}  // namespace chatgate::client
