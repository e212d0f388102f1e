#include "protocol/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "protocol/names.hpp"

namespace chatgate::protocol {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

token_result refuse(std::string reason) { return token_result{std::nullopt, std::move(reason)}; }

// A NumericDate claim: a JSON number (fractions allowed, RFC 7519 2).
bool read_time(const nlohmann::json& claims, const char* name, std::optional<std::int64_t>& out) {
  auto it = claims.find(name);
  if (it == claims.end()) return true;
  if (!it->is_number()) return false;
  const double v = it->get<double>();
  if (!(v > -1e15 && v < 1e15)) return false;
  out = static_cast<std::int64_t>(v);
  return true;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  // Left-over bits must be zero, so each token has one spelling.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

token_result verify_token(std::string_view token, std::string_view secret, std::int64_t now_s) {
  if (token.empty()) return refuse("empty token");
  if (token.size() > max_token_bytes) return refuse("token too long");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("not a JWT (header.payload.signature)");
  const auto header_b64 = token.substr(0, dot1);
  const auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto header_text = base64url_decode(header_b64);
  const auto payload_text = base64url_decode(payload_b64);
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return refuse("not base64url");

  // The algorithm is checked before anything is trusted: only HS256.
  const auto header = nlohmann::json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return refuse("header is not a JSON object");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return refuse("no alg");
  if (alg->get<std::string>() != "HS256") return refuse("alg " + alg->get<std::string>().substr(0, 16) + " not accepted (HS256 only)");

  const std::string expected = hmac_sha256(secret, token.substr(0, dot2));
  if (signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0)
    return refuse("bad signature");

  const auto claims = nlohmann::json::parse(*payload_text, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return refuse("claims are not a JSON object");
  token_claims out;
  if (!read_time(claims, "exp", out.exp)) return refuse("exp is not a number");
  if (!read_time(claims, "nbf", out.nbf)) return refuse("nbf is not a number");
  if (out.exp && now_s >= *out.exp + token_clock_skew_s) return refuse("expired");
  if (out.nbf && now_s < *out.nbf - token_clock_skew_s) return refuse("not valid yet");
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string()) return refuse("no sub");
  out.sub = sub->get<std::string>();
  if (!is_valid_nick(out.sub)) return refuse("sub is not a valid nick");
  return token_result{std::move(out), {}};
}

}  // namespace chatgate::protocol
