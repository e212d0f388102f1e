#include "protocol/proxy_header.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>

namespace chatgate::protocol {
namespace {

bool is_address(std::string_view s, bool v4) {
  if (s.empty() || s.size() > 45) return false;
  // inet_pton stops at a NUL: "1.2.3.4\0junk" must not pass as 1.2.3.4.
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  const std::string text(s);
  unsigned char parsed[16];
  return inet_pton(v4 ? AF_INET : AF_INET6, text.c_str(), parsed) == 1;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + unsigned(c - '0');
  }
  return value <= 65535;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::optional<std::string> parse_forwarded_for(std::string_view header) {
  const std::size_t comma = header.rfind(',');
  const std::string_view last = trim(comma == std::string_view::npos ? header : header.substr(comma + 1));
  if (is_address(last, /*v4=*/true) || is_address(last, /*v4=*/false)) return std::string(last);
  return std::nullopt;
}

std::string escape_for_log(std::string_view bytes, std::size_t max) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

std::optional<std::string> parse_proxy_v1(std::string_view line) {
  // The spec caps the header at 107 bytes with its CRLF.
  if (line.size() > 105 || line.substr(0, 6) != "PROXY ") return std::nullopt;
  line.remove_prefix(6);
  std::array<std::string_view, 5> parts;
  std::size_t count = 0;
  while (!line.empty() && count < parts.size()) {
    const std::size_t sp = line.find(' ');
    parts[count++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  if (count >= 1 && parts[0] == "UNKNOWN") return std::string("unknown");
  if (count != 5 || !line.empty()) return std::nullopt;
  const bool v4 = parts[0] == "TCP4";
  if (!v4 && parts[0] != "TCP6") return std::nullopt;
  if (!is_address(parts[1], v4) || !is_address(parts[2], v4) || !is_port(parts[3]) ||
      !is_port(parts[4]))
    return std::nullopt;
  const std::string address(parts[1]);
  return (v4 ? address : "[" + address + "]") + ":" + std::string(parts[3]);
}

}  // namespace chatgate::protocol
