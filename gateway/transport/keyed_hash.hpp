// SipHash-2-4 with a per-process random key: what an attacker cannot
// predict, so it can neither guess a UDP `/ok` code nor aim datagrams at
// one hash bucket.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

namespace chatgate {

class keyed_hash {
 public:
  // A fresh key from the system's random source (getrandom on Linux).
  keyed_hash() {
    std::random_device rd;
    k0_ = (std::uint64_t(rd()) << 32) | rd();
    k1_ = (std::uint64_t(rd()) << 32) | rd();
  }

  std::uint64_t operator()(std::string_view data) const {
    std::uint64_t v0 = k0_ ^ 0x736f6d6570736575ULL, v1 = k1_ ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k0_ ^ 0x6c7967656e657261ULL, v3 = k1_ ^ 0x7465646279746573ULL;
    auto round = [&] {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    };
    const std::size_t whole = data.size() & ~std::size_t{7};
    for (std::size_t i = 0; i < whole; i += 8) {
      std::uint64_t m;
      std::memcpy(&m, data.data() + i, 8);  // little-endian hosts only (x86, arm64)
      v3 ^= m;
      round(); round();
      v0 ^= m;
    }
    std::uint64_t last = std::uint64_t(data.size()) << 56;
    for (std::size_t i = whole; i < data.size(); ++i)
      last |= std::uint64_t(static_cast<unsigned char>(data[i])) << (8 * (i - whole));
    v3 ^= last;
    round(); round();
    v0 ^= last;
    v2 ^= 0xff;
    round(); round(); round(); round();
    return v0 ^ v1 ^ v2 ^ v3;
  }

  // The hash of `data` sent to or from one address and port.
  template <class Endpoint>
  std::uint64_t operator()(const Endpoint& ep, std::string_view data) const {
    char buf[16 + 2 + 8];
    const auto a = ep.address();
    std::size_t n = 0;
    if (a.is_v4()) {
      const auto b = a.to_v4().to_bytes();
      std::memcpy(buf, b.data(), b.size());
      n = b.size();
    } else {
      const auto b = a.to_v6().to_bytes();
      std::memcpy(buf, b.data(), b.size());
      n = b.size();
    }
    const std::uint16_t port = ep.port();
    std::memcpy(buf + n, &port, 2);
    const std::uint64_t h = (*this)(data);
    std::memcpy(buf + n + 2, &h, 8);
    return (*this)(std::string_view(buf, n + 10));
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

  std::uint64_t k0_, k1_;
};

}  // namespace chatgate
