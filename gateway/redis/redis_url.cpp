#include "gateway/redis/redis_url.hpp"

#include <cctype>
#include <charconv>

namespace chatgate::redis {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Passwords may hold '@', ':' or '/' percent-encoded, as in any URL.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string url::redacted() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "redis://" + h + ":" + std::to_string(port) + "/" + std::to_string(db);
}

std::optional<url> parse_url(std::string_view text, std::string& error) {
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) != scheme) {
    error = "must start with redis://";
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme.size());
  url u;

  // The credentials end at the last '@' (an unencoded '@' in a password).
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    if (colon == std::string_view::npos) {
      error = "credentials must be :PASSWORD or USER:PASSWORD";
      return std::nullopt;
    }
    if (!percent_decode(cred.substr(0, colon), u.user) ||
        !percent_decode(cred.substr(colon + 1), u.password)) {
      error = "bad percent-encoding in the credentials";
      return std::nullopt;
    }
    if (u.password.empty()) {
      error = "empty password";
      return std::nullopt;
    }
  }

  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_number(db, u.db) || u.db < 0)) {
      error = "database must be a number: " + std::string(db);
      return std::nullopt;
    }
  }

  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed [ in the host";
      return std::nullopt;
    }
    u.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "expected :PORT after ]";
        return std::nullopt;
      }
      port = after.substr(1);
      if (port.empty()) {
        error = "empty port";
        return std::nullopt;
      }
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    port = hostport.substr(colon + 1);
    if (port.empty()) {
      error = "empty port";
      return std::nullopt;
    }
  } else {
    u.host = std::string(hostport);
  }
  if (u.host.empty()) {
    error = "no host";
    return std::nullopt;
  }
  if (!port.empty()) {
    unsigned p = 0;
    if (!parse_number(port, p) || p == 0 || p > 65535) {
      error = "port must be 1-65535: " + std::string(port);
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(p);
  }
  return u;
}

}  // namespace chatgate::redis
