#include "protocol/text_sanitizer.hpp"

#include <cstdint>

namespace chatgate::protocol {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid sequence starting at s[i], or 0 if none. On 0,
// `consumed` holds the length of the maximal invalid subpart (at least 1),
// which is replaced by one U+FFFD (Unicode's "substitution of maximal
// subparts" practice, as browsers do).
std::size_t valid_sequence(std::string_view s, std::size_t i, std::size_t& consumed) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  consumed = 1;
  if (b0 < 0x80) return 1;
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = (k == 1) ? (b >= lo && b <= hi) : is_continuation(b);
    if (!ok) return 0;
    consumed = k + 1;
  }
  return need + 1;
}

bool is_control(std::string_view s, std::size_t i, std::size_t len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (len == 1) return (b0 < 0x20 && b0 != '\t') || b0 == 0x7F;
  // C1 controls U+0080..U+009F are encoded C2 80..C2 9F.
  return len == 2 && b0 == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
}

}  // namespace

std::string sanitize_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t consumed = 0;
    const std::size_t len = valid_sequence(bytes, i, consumed);
    if (len == 0) {
      out += replacement;
      i += consumed;
      continue;
    }
    if (!is_control(bytes, i, len)) out.append(bytes.data() + i, len);
    i += len;
  }
  return out;
}

bool valid_utf8(std::string_view bytes) {
  std::size_t consumed = 0;
  for (std::size_t i = 0, len; i < bytes.size(); i += len)
    if ((len = valid_sequence(bytes, i, consumed)) == 0) return false;
  return true;
}

}  // namespace chatgate::protocol
