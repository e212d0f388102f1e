#include "client/console.hpp"

#include <unistd.h>

#include <asio/post.hpp>

namespace chatgate::client {
namespace {

constexpr int in_fd = 0;
constexpr int out_fd = 1;
constexpr std::string_view clear_line = "\r\x1b[K";

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

console::console(asio::io_context& io)
    : io_(io),
      interactive_(is_terminal(in_fd) && is_terminal(out_fd)),
      stdin_flags_(in_fd),
      stdout_flags_(out_fd),
      input_(io) {}

console::~console() { stop(); }

void console::start(std::function<void(std::string)> on_line, std::function<void()> on_end) {
  if (started_ || stopped_) return;
  started_ = true;
  on_line_ = std::move(on_line);
  on_end_ = std::move(on_end);
  // A duplicate, so closing it leaves the process's stdin alone.
  const int fd = ::dup(in_fd);
  std::error_code ec;
  if (fd >= 0) input_.assign(fd, ec);
  if (fd < 0 || ec) {
    asio::post(io_, [this] { end_of_input(); });
    return;
  }
  if (interactive_) {
    raw_ = std::make_unique<raw_mode>(in_fd);
    if (raw_->active()) {
      draw_input();
    } else {
      raw_.reset();
      interactive_ = false;
    }
  }
  do_read();
}

void console::resume() {
  paused_ = false;
  if (started_ && !stopped_ && !reading_ && !eof_) do_read();
}

void console::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::error_code ignored;
  input_.close(ignored);
  if (raw_ && raw_->active()) {
    write_all(out_fd, clear_line);
    raw_->restore();
  }
}

void console::print(std::string_view line) {
  std::string out;
  out.reserve(line.size() + prompt_.size() + editor_.text().size() + 16);
  if (editing()) out.append(clear_line);
  out.append(line).append("\n");
  write_all(out_fd, out);
  if (editing()) draw_input();
}

void console::set_prompt(std::string prompt) {
  prompt_ = std::move(prompt);
  if (editing()) draw_input();
}

void console::draw_input() {
  const std::size_t columns = terminal_columns(out_fd);
  const std::size_t used = display_width(prompt_) + 1;  // the cursor needs a cell too
  std::string out(clear_line);
  out.append(prompt_).append(editor_.tail(columns > used ? columns - used : 0));
  write_all(out_fd, out);
}

void console::do_read() {
  reading_ = true;
  input_.async_read_some(asio::buffer(buffer_), [this](std::error_code ec, std::size_t n) {
    reading_ = false;
    on_read(ec, n);
  });
}

void console::on_read(std::error_code ec, std::size_t n) {
  if (stopped_) return;
  if (ec) {
    eof_ = true;
    if (!raw_) framer_.flush([this](std::string_view line) { on_line_(std::string(line)); });
    if (!stopped_) end_of_input();
    return;
  }
  const std::string_view bytes(buffer_.data(), n);
  if (raw_)
    on_keys(bytes);
  else
    on_piped(bytes);
  if (!stopped_ && !paused_) do_read();
}

void console::on_keys(std::string_view keys) {
  for (char c : keys) {
    if (stopped_) return;
    switch (editor_.feed(c)) {
      case line_editor::action::none:
        break;
      case line_editor::action::redraw:
        draw_input();
        break;
      case line_editor::action::enter: {
        // The typed line stays on screen, as in any terminal program.
        std::string line = editor_.take();
        write_all(out_fd, std::string(clear_line) + prompt_ + line + "\n");
        draw_input();
        on_line_(std::move(line));
        break;
      }
      case line_editor::action::interrupt:
      case line_editor::action::end:
        end_of_input();
        return;
    }
  }
}

void console::on_piped(std::string_view bytes) {
  framer_.feed(
      bytes,
      [this](std::string_view line) {
        on_line_(std::string(line));
        return !stopped_;
      },
      [this] {
        ++dropped_;
        return !stopped_;
      });
}

void console::end_of_input() {
  if (stopped_ || !on_end_) return;
  auto on_end = std::move(on_end_);
  on_end_ = nullptr;
  on_end();
}

}  // namespace chatgate::client
