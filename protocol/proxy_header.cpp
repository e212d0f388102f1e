#include "protocol/proxy_header.hpp"

#include <array>

namespace chatgate::protocol {
namespace {

bool all_of(std::string_view s, std::string_view allowed_extra, bool digits_only) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    const bool extra = allowed_extra.find(c) != std::string_view::npos;
    if (!digit && !extra && (digits_only || !hex)) return false;
  }
  return true;
}

bool is_port(std::string_view s) {
  if (s.size() > 5 || !all_of(s, "", true)) return false;
  return std::stoul(std::string(s)) <= 65535;
}

}  // namespace

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
  const std::string_view extra = v4 ? "." : ":.";
  const bool addresses_ok = v4 ? all_of(parts[1], ".", true) && all_of(parts[2], ".", true)
                               : all_of(parts[1], extra, false) && all_of(parts[2], extra, false);
  if (!addresses_ok || !is_port(parts[3]) || !is_port(parts[4])) return std::nullopt;
  const std::string address(parts[1]);
  return (v4 ? address : "[" + address + "]") + ":" + std::string(parts[3]);
}

}  // namespace chatgate::protocol
