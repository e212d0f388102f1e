// The user's side: lines typed at a terminal (edited in raw mode) or read
// from a pipe, and lines printed beside the input without breaking it.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "client/line_editor.hpp"
#include "client/terminal.hpp"
#include "protocol/line_framer.hpp"

namespace chatgate::client {

class console {
 public:
  // Lines longer than this, read from a pipe, are dropped and counted.
  static constexpr std::size_t max_line = 64 * 1024;

  explicit console(asio::io_context& io);
  ~console();

  // stdin and stdout are both a terminal: raw mode and line editing.
  bool interactive() const { return interactive_; }

  // on_line gets each line without its end; on_end once, at end of input
  // (EOF, Ctrl-D on an empty line, Ctrl-C). Neither is called after stop().
  void start(std::function<void(std::string)> on_line, std::function<void()> on_end);
  // Reading from a pipe waits while paused (the sender is behind); keys
  // from a terminal are always read.
  void pause() { paused_ = !raw_; }
  void resume();
  // Stops reading, clears the input line and gives the terminal back.
  void stop();

  // Prints one line (no '\n') above the line being typed.
  void print(std::string_view line);
  void set_prompt(std::string prompt);
  std::size_t dropped_lines() const { return dropped_; }

 private:
  void do_read();
  void on_read(std::error_code ec, std::size_t n);
  void on_keys(std::string_view keys);
  void on_piped(std::string_view bytes);
  void end_of_input();
  void draw_input();
  bool editing() const { return raw_ && raw_->active() && !stopped_; }

  asio::io_context& io_;
  bool interactive_;
  fd_flags_guard stdin_flags_;
  fd_flags_guard stdout_flags_;
  asio::posix::stream_descriptor input_;
  std::unique_ptr<raw_mode> raw_;
  line_editor editor_;
  protocol::line_framer framer_{max_line};
  std::array<char, 16 * 1024> buffer_{};
  std::string prompt_ = "> ";
  std::function<void(std::string)> on_line_;
  std::function<void()> on_end_;
  std::size_t dropped_ = 0;
  bool reading_ = false;
  bool paused_ = false;
  bool started_ = false;
  bool stopped_ = false;
  bool eof_ = false;
};

}  // namespace chatgate::client
