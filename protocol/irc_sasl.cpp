#include "protocol/irc_sasl.hpp"

#include <algorithm>

#include "protocol/jwt.hpp"

namespace chatgate::protocol {

sasl_step sasl_reader::feed(std::string_view param) {
  if (param == "*") {
    payload_.clear();
    return sasl_step::aborted;
  }
  if (param.size() > sasl_chunk_bytes) {
    payload_.clear();
    return sasl_step::chunk_too_long;
  }
  // "+" is an empty chunk: it ends a payload that was a multiple of 400.
  if (param == "+") return sasl_step::done;
  if (payload_.size() + param.size() > sasl_max_payload) {
    payload_.clear();
    return sasl_step::too_long;
  }
  payload_.append(param);
  return param.size() == sasl_chunk_bytes ? sasl_step::more : sasl_step::done;
}

std::optional<sasl_plain> decode_sasl_plain(std::string_view base64) {
  if (base64.empty() || base64.size() % 4 != 0) return std::nullopt;
  // Standard base64 is base64url with two other letters and padding.
  std::size_t pad = 0;
  while (pad < 2 && base64.size() > pad && base64[base64.size() - 1 - pad] == '=') ++pad;
  std::string url(base64.substr(0, base64.size() - pad));
  for (char& c : url) {
    if (c == '-' || c == '_') return std::nullopt;
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  auto raw = base64url_decode(url);
  if (!raw) return std::nullopt;
  const std::size_t a = raw->find('\0');
  if (a == std::string::npos) return std::nullopt;
  const std::size_t b = raw->find('\0', a + 1);
  if (b == std::string::npos || raw->find('\0', b + 1) != std::string::npos) return std::nullopt;
  sasl_plain out{raw->substr(0, a), raw->substr(a + 1, b - a - 1), raw->substr(b + 1)};
  if (out.password.empty()) return std::nullopt;
  return out;
}

}  // namespace chatgate::protocol
