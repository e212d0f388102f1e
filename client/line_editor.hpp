// Keystrokes to an edited line: printable characters (UTF-8 too),
// backspace, Ctrl-U, enter; Ctrl-C and Ctrl-D end the input; up and down
// walk through the lines entered before. Other escape sequences (left,
// right, function keys) are swallowed. Pure: the console draws.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace chatgate::client {

class line_editor {
 public:
  // Characters past this are ignored (a paste without a newline).
  static constexpr std::size_t max_line = 64 * 1024;
  // Lines kept for up/down, oldest forgotten first.
  static constexpr std::size_t max_history = 500;

  enum class action {
    none,       // nothing visible changed
    redraw,     // the line changed
    enter,      // a line is complete: take() it
    interrupt,  // Ctrl-C
    end,        // Ctrl-D on an empty line
  };

  action feed(char c);
  const std::string& text() const { return text_; }
  // The line entered; it joins the history (unless empty or the same as
  // the last one).
  std::string take();

  // The end of the line that fits in `columns` terminal cells (one per
  // character), so the input never wraps and one "\r\x1b[K" clears it.
  std::string tail(std::size_t columns) const;

 private:
  enum class escape { none, started, csi, ss3 };

  action on_escape(char final_byte);
  action recall(int step);

  std::string text_;
  escape escape_ = escape::none;
  bool csi_params_ = false;  // ESC [ 1 ; 5 A (Ctrl-Up) is not a plain Up
  std::deque<std::string> history_;
  // Where up/down are: history_.size() is the line being typed, whose text
  // waits in draft_ while an older line is shown.
  std::size_t at_ = 0;
  std::string draft_;
};

}  // namespace chatgate::client
