#include "client/line_editor.hpp"

namespace chatgate::client {
namespace {

constexpr char ctrl_c = 0x03;
constexpr char ctrl_d = 0x04;
constexpr char ctrl_h = 0x08;
constexpr char ctrl_u = 0x15;
constexpr char esc = 0x1b;
constexpr char del = 0x7f;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

line_editor::action line_editor::feed(char c) {
  // ESC [ A / ESC O A (up) and B (down) recall; swallow the rest of
  // ESC [ ... final, ESC O x and ESC x.
  switch (escape_) {
    case escape::started:
      escape_ = c == '[' ? escape::csi : c == 'O' ? escape::ss3 : escape::none;
      csi_params_ = false;
      return action::none;
    case escape::csi:
      if (c < 0x40 || c > 0x7e) {
        csi_params_ = true;
        return action::none;
      }
      escape_ = escape::none;
      return csi_params_ ? action::none : on_escape(c);
    case escape::ss3:
      escape_ = escape::none;
      return on_escape(c);
    case escape::none:
      break;
  }
  switch (c) {
    case '\r':
    case '\n':
      return action::enter;
    case ctrl_c:
      return action::interrupt;
    case ctrl_d:
      return text_.empty() ? action::end : action::none;
    case ctrl_h:
    case del:
      if (text_.empty()) return action::none;
      while (!text_.empty() && is_continuation(text_.back())) text_.pop_back();
      if (!text_.empty()) text_.pop_back();
      return action::redraw;
    case ctrl_u:
      text_.clear();
      return action::redraw;
    case esc:
      escape_ = escape::started;
      return action::none;
    case '\t':
      c = ' ';  // a tab would move the cursor where the editor cannot follow
      break;
    default:
      break;
  }
  if (static_cast<unsigned char>(c) < 0x20 || text_.size() >= max_line) return action::none;
  text_.push_back(c);
  return action::redraw;
}

line_editor::action line_editor::on_escape(char final_byte) {
  if (final_byte == 'A') return recall(-1);
  if (final_byte == 'B') return recall(+1);
  return action::none;
}

// Up (-1) or down (+1) one line; the line being typed is kept aside and
// comes back below the newest.
line_editor::action line_editor::recall(int step) {
  if (step < 0 && at_ == 0) return action::none;
  if (step > 0 && at_ >= history_.size()) return action::none;
  if (at_ == history_.size()) draft_ = text_;
  at_ = step < 0 ? at_ - 1 : at_ + 1;
  text_ = at_ == history_.size() ? draft_ : history_[at_];
  return action::redraw;
}

std::string line_editor::take() {
  std::string line;
  line.swap(text_);
  draft_.clear();
  if (!line.empty() && (history_.empty() || history_.back() != line)) {
    history_.push_back(line);
    if (history_.size() > max_history) history_.pop_front();
  }
  at_ = history_.size();
  return line;
}

std::string line_editor::tail(std::size_t columns) const {
  if (columns == 0) return {};
  std::size_t start = text_.size();
  std::size_t chars = 0;
  // Walk back over whole characters while they fit.
  while (start > 0) {
    std::size_t prev = start - 1;
    while (prev > 0 && is_continuation(text_[prev])) --prev;
    if (chars + 1 > columns) break;
    ++chars;
    start = prev;
  }
  return text_.substr(start);
}

}  // namespace chatgate::client
