// Keystrokes to an edited line: printable characters (UTF-8 too),
// backspace, Ctrl-U, enter; Ctrl-C and Ctrl-D end the input. Escape
// sequences (arrow keys) are swallowed. Pure: the console draws.
#pragma once

#include <cstddef>
#include <string>

namespace chatgate::client {

class line_editor {
 public:
  // Characters past this are ignored (a paste without a newline).
  static constexpr std::size_t max_line = 64 * 1024;

  enum class action {
    none,       // nothing visible changed
    redraw,     // the line changed
    enter,      // a line is complete: take() it
    interrupt,  // Ctrl-C
    end,        // Ctrl-D on an empty line
  };

  action feed(char c);
  const std::string& text() const { return text_; }
  std::string take();

  // The end of the line that fits in `columns` terminal cells (one per
  // character), so the input never wraps and one "\r\x1b[K" clears it.
  std::string tail(std::size_t columns) const;

 private:
  enum class escape { none, started, csi, ss3 };

  std::string text_;
  escape escape_ = escape::none;
};

}  // namespace chatgate::client
