// The few terminal facts the console needs: raw mode, width, safe writes.
#pragma once

#include <string_view>

#include <termios.h>

namespace chatgate::client {

// Puts a terminal in raw mode (no echo, no line discipline, no signals from
// keys) and restores it, whatever happens, when destroyed or restored.
class raw_mode {
 public:
  explicit raw_mode(int fd);
  ~raw_mode() { restore(); }
  raw_mode(const raw_mode&) = delete;
  raw_mode& operator=(const raw_mode&) = delete;

  bool active() const { return active_; }
  void restore();

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Keeps a descriptor's status flags (asio makes it non-blocking, and a
// terminal's flags are shared with the shell) and puts them back.
class fd_flags_guard {
 public:
  explicit fd_flags_guard(int fd);
  ~fd_flags_guard();
  fd_flags_guard(const fd_flags_guard&) = delete;
  fd_flags_guard& operator=(const fd_flags_guard&) = delete;

 private:
  int fd_;
  int flags_;
};

// Opens /dev/null on any of stdin, stdout, stderr that is closed, so no
// socket is ever given their numbers.
void ensure_standard_fds();
bool is_terminal(int fd);
// Columns of the terminal on fd, or 80 when unknown.
unsigned terminal_columns(int fd);
// Writes everything, waiting when the descriptor is non-blocking and full;
// gives up silently when the reader is gone.
void write_all(int fd, std::string_view bytes);

}  // namespace chatgate::client
