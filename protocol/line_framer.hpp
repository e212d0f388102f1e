// Splits a byte stream into lines, with a cap that never buffers past it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chatgate::protocol {

// Lines end with '\n'; a '\r' before it is dropped. A line longer than the
// cap is reported once as too long and its remaining bytes are discarded up
// to the next '\n' (or the next flush), so memory stays at most the cap.
class line_framer {
 public:
  explicit line_framer(std::size_t max_line) : max_line_(max_line) {}

  void set_max_line(std::size_t max_line) { max_line_ = max_line; }
  bool has_partial() const { return !partial_.empty() || discarding_; }
  std::size_t buffered() const { return partial_.size(); }

  // Calls on_line(std::string_view) for each complete line and
  // on_too_long() once for each line over the cap. Either callback may
  // return false to stop framing (the rest of `bytes` is dropped).
  template <class OnLine, class OnTooLong>
  void feed(std::string_view bytes, OnLine&& on_line, OnTooLong&& on_too_long);

  // Ends the pending partial line (idle timeout): delivers it if any.
  template <class OnLine>
  void flush(OnLine&& on_line);

 private:
  static std::string_view chomp(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  // Length of partial_ + chunk without a final '\r' (it may precede '\n').
  std::size_t content_length(std::string_view chunk) const {
    const std::size_t total = partial_.size() + chunk.size();
    const char last = !chunk.empty() ? chunk.back() : (partial_.empty() ? '\0' : partial_.back());
    return last == '\r' ? total - 1 : total;
  }

  std::size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
};

template <class OnLine, class OnTooLong>
void line_framer::feed(std::string_view bytes, OnLine&& on_line, OnTooLong&& on_too_long) {
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view chunk = bytes.substr(0, nl);
    if (discarding_) {
      if (nl == std::string_view::npos) return;
      discarding_ = false;
    } else if (content_length(chunk) > max_line_) {
      partial_.clear();
      partial_.shrink_to_fit();
      discarding_ = nl == std::string_view::npos;
      if (!on_too_long()) return;
      if (discarding_) return;
    } else if (nl == std::string_view::npos) {
      partial_.append(chunk);
      return;
    } else if (partial_.empty()) {
      if (!on_line(chomp(chunk))) return;
    } else {
      partial_.append(chunk);
      std::string line;
      line.swap(partial_);
      if (!on_line(chomp(line))) return;
    }
    bytes.remove_prefix(nl + 1);
  }
}

template <class OnLine>
void line_framer::flush(OnLine&& on_line) {
  discarding_ = false;
  if (partial_.empty()) return;
  std::string line;
  line.swap(partial_);
  on_line(chomp(line));
}

}  // namespace chatgate::protocol
