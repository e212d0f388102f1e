#include "gateway/transport/udp_budget.hpp"

#include <algorithm>

namespace chatgate {
namespace {

// IPv4 peers of a `::` socket arrive as ::ffff:a.b.c.d: one address, one budget.
asio::ip::address plain(const asio::ip::address& ip) {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
  return ip;
}

}  // namespace

udp_budget::source& udp_budget::touch(const asio::ip::address& raw, clock::time_point now) {
  const asio::ip::address ip = plain(raw);
  auto it = sources_.find(ip);
  if (it == sources_.end()) {
    if (sources_.size() >= max_sources_ && !lru_.empty()) {
      sources_.erase(lru_.front());
      lru_.pop_front();
    }
    it = sources_.emplace(ip, source{}).first;
    it->second.refilled = now;
    it->second.lru = lru_.insert(lru_.end(), ip);
    return it->second;
  }
  source& s = it->second;
  lru_.splice(lru_.end(), lru_, s.lru);
  // The allowance refills 256 bytes a minute, up to 256: it is never banked.
  const double minutes = std::chrono::duration<double>(now - s.refilled).count() / 60.0;
  s.refilled = now;
  if (s.credit < allowance) s.credit = std::min(allowance, s.credit + minutes * allowance);
  return s;
}

void udp_budget::received(const asio::ip::address& ip, std::size_t n, clock::time_point now) {
  source& s = touch(ip, now);
  s.credit = std::min(max_credit, s.credit + factor * static_cast<double>(n));
}

bool udp_budget::spend(const asio::ip::address& ip, std::size_t n, clock::time_point now) {
  source& s = touch(ip, now);
  if (s.credit < static_cast<double>(n)) return false;
  s.credit -= static_cast<double>(n);
  return true;
}

void udp_budget::sweep(clock::time_point now) {
  while (!lru_.empty()) {
    auto it = sources_.find(lru_.front());
    if (now - it->second.refilled < std::chrono::minutes(1)) break;
    sources_.erase(it);
    lru_.pop_front();
  }
}

}  // namespace chatgate
